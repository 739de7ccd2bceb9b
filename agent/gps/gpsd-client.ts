// Keeps the car's current position from gpsd's JSON protocol (TCP, `?WATCH`, TPV reports), with a
// reconnect after any drop. position() returns the latest fix while it is fresh and null otherwise,
// so every event can record whether the car had a fix.
import net from 'node:net';
import type { Logger } from '../../src/common/log.js';
import type { Position } from '../../src/protocol/event.js';

export interface GpsdClientOptions {
  host: string;
  port: number;
  /** A fix older than this counts as no fix, ms. */
  maxFixAgeMs: number;
  logger: Logger;
  nowMs?: () => number;
  /** Called when the fix state changes, e.g. to set a metric. */
  onFixChange?: (hasFix: boolean) => void;
  /** Reconnect delays: doubled after each failed attempt from minMs up to maxMs. */
  reconnect?: { minMs: number; maxMs: number };
}

/** Reports kept for positionAt(); gpsd reports about once a second, so this covers about a minute. */
const HISTORY_REPORTS = 64;
/** gpsd's JSON reports are one object per line; a longer line is not gpsd talking. */
const MAX_LINE_BYTES = 64 * 1024;
/** Sent after connecting: report TPV objects as JSON (gpsd_json(5), WATCH command). */
const WATCH_COMMAND = '?WATCH={"enable":true,"json":true};\n';

interface TpvReport {
  class: 'TPV';
  mode?: number;
  lat?: number;
  lon?: number;
  eph?: number;
  epx?: number;
  epy?: number;
}

export class GpsdClient {
  private readonly nowMs: () => number;
  private socket: net.Socket | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelayMs: number;
  private buffered = '';
  private latest: Position | null = null;
  /** Reports in arrival order: a fix, or null for a report without one or a lost connection. */
  private readonly history: Array<{ atMs: number; position: Position | null }> = [];
  private hadFix = false;
  private connected = false;
  private stopped = true;

  constructor(private readonly options: GpsdClientOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.reconnectDelayMs = options.reconnect?.minMs ?? 1000;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.socket?.destroy();
    this.socket = null;
  }

  /** Returns the latest fix while it is younger than maxFixAgeMs, and null without a current fix. */
  position(): Position | null {
    const fix = this.latest;
    const fresh = fix !== null && this.nowMs() - (fix.fixAtMs ?? 0) <= this.options.maxFixAgeMs;
    this.noteFixState(fresh);
    return fresh ? fix : null;
  }

  /**
   * Returns the car's position at car-clock time `atMs`, such as when a frame was read. That is the
   * last report before it when that report was a fix no older than maxFixAgeMs, and null otherwise.
   */
  positionAt(atMs: number): Position | null {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const report = this.history[i]!;
      if (report.atMs > atMs) continue;
      if (report.position === null || atMs - report.atMs > this.options.maxFixAgeMs) return null;
      return report.position;
    }
    return null;
  }

  private remember(position: Position | null): void {
    this.history.push({ atMs: this.nowMs(), position });
    if (this.history.length > HISTORY_REPORTS) this.history.shift();
  }

  private connect(): void {
    const { host, port, logger } = this.options;
    const socket = net.connect({ host, port });
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      this.connected = true;
      this.reconnectDelayMs = this.options.reconnect?.minMs ?? 1000;
      logger.info({ host, port }, 'gpsd connected');
      socket.write(WATCH_COMMAND);
    });
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (error) => {
      // 'close' follows and schedules the retry; one warning per outage is enough.
      if (this.connected) logger.warn({ host, port, err: error.message }, 'gpsd connection error');
    });
    socket.once('close', () => this.onClose(socket));
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.socket = null;
    this.buffered = '';
    this.latest = null;
    this.remember(null);
    if (this.stopped) return;
    if (wasConnected) this.options.logger.warn({ retryInMs: this.reconnectDelayMs }, 'gpsd connection lost; events carry no position until it is back');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.connect();
    }, this.reconnectDelayMs);
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.options.reconnect?.maxMs ?? 30_000);
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline = this.buffered.indexOf('\n');
    while (newline >= 0) {
      this.onLine(this.buffered.slice(0, newline));
      this.buffered = this.buffered.slice(newline + 1);
      newline = this.buffered.indexOf('\n');
    }
    if (this.buffered.length > MAX_LINE_BYTES) {
      this.options.logger.warn({ bytes: this.buffered.length }, 'gpsd sent an over-long line; it is dropped');
      this.buffered = '';
    }
  }

  private onLine(line: string): void {
    let report: unknown;
    try {
      report = JSON.parse(line);
    } catch {
      return;
    }
    if (report === null || typeof report !== 'object' || (report as { class?: unknown }).class !== 'TPV') return;
    this.onTpv(report as TpvReport);
  }

  /** mode 2 is a 2D fix and 3 a 3D fix (gpsd_json(5)); 0 and 1 mean no fix. */
  private onTpv(tpv: TpvReport): void {
    const hasFix = (tpv.mode ?? 0) >= 2 && Number.isFinite(tpv.lat) && Number.isFinite(tpv.lon);
    if (!hasFix) {
      this.latest = null;
      this.remember(null);
      this.noteFixState(false);
      return;
    }
    const position: Position = { latitude: tpv.lat!, longitude: tpv.lon!, fixAtMs: this.nowMs() };
    const accuracyM = tpv.eph ?? maxFinite(tpv.epx, tpv.epy);
    if (accuracyM !== undefined && Number.isFinite(accuracyM) && accuracyM >= 0) position.accuracyM = Math.round(accuracyM * 10) / 10;
    this.latest = position;
    this.remember(position);
    this.noteFixState(true);
  }

  private noteFixState(hasFix: boolean): void {
    if (hasFix === this.hadFix) return;
    this.hadFix = hasFix;
    this.options.logger.info({ hasFix }, hasFix ? 'GPS fix acquired' : 'GPS fix lost');
    this.options.onFixChange?.(hasFix);
  }
}

function maxFinite(a: number | undefined, b: number | undefined): number | undefined {
  const values = [a, b].filter((value): value is number => value !== undefined && Number.isFinite(value));
  return values.length === 0 ? undefined : Math.max(...values);
}
