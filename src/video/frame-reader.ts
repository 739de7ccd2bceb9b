// Reads one camera through a supervised ffmpeg process and emits decoded RGB frames. It restarts
// ffmpeg after any exit or when frames stop. What happens to the frames is up to the listeners.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { createLogger, redactCredentials, type Logger } from '../common/log.js';
import type { RgbImage } from '../vision/image.js';
import { buildReaderArgs, type FileSource, type RtspSource } from './ffmpeg-args.js';
import { RawFrameSplitter } from './frame-splitter.js';
import { LineRingBuffer } from './line-ring-buffer.js';
import { RestartBackoff, type RestartBackoffOptions } from './restart-backoff.js';

export type { RgbImage };

export interface CameraFrame {
  cameraId: string;
  /** Position of the frame among all frames this reader emitted, from 0, across restarts. */
  index: number;
  /** Wall-clock time (epoch ms) at which the last byte of the frame arrived. */
  receivedAtMs: number;
  /** Packed RGB24 of width * height * 3 bytes. `data` is a Buffer that may share memory with ffmpeg's output chunk. */
  image: RgbImage & { data: Buffer };
}

export interface CameraRestart {
  cameraId: string;
  reason: string;
  /** Restarts since the last healthy run, from 1. */
  attempt: number;
  delayMs: number;
}

export interface CameraReaderStats {
  framesIn: number;
  /** ffmpeg processes started after the first one. */
  restarts: number;
  lastFrameAtMs: number | null;
  /** Process id of the running ffmpeg, or null between runs. */
  pid: number | null;
}

/** The part of a ChildProcess that the reader uses, so that tests can script a fake one. */
export interface FfmpegProcess {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
}

export type FfmpegSpawner = (command: string, args: readonly string[]) => FfmpegProcess;

export interface ReaderClock {
  nowMs(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface CameraReaderOptions {
  cameraId: string;
  source: RtspSource | FileSource;
  /** Maximum frame rate delivered. The source's own frame rate is the other bound. */
  fps: number;
  width: number;
  height: number;
  hwaccelArgs?: readonly string[];
  /** Default 'ffmpeg' from PATH. */
  ffmpegPath?: string;
  /** Maximum gap between frames, in ms, before ffmpeg is killed and restarted. Default 4000. */
  watchdogMs?: number;
  /** Maximum wait for the first frame of a run, in ms (connecting and probing). Default 10000. */
  startupTimeoutMs?: number;
  /** A run that lasted this long, in ms, and delivered frames resets the backoff. Default 30000. */
  healthyAfterMs?: number;
  /** Wait after SIGTERM, in ms, before stop() sends SIGKILL. Default 3000. */
  stopTimeoutMs?: number;
  /** stderr lines kept and logged at each restart. Default 50. */
  stderrLines?: number;
  backoff?: Partial<RestartBackoffOptions>;
  spawn?: FfmpegSpawner;
  clock?: ReaderClock;
  logger?: Logger;
}

interface ReaderRun {
  child: FfmpegProcess | null;
  startedAtMs: number;
  lastFrameAtMs: number | null;
  frames: number;
  /** Set when the reader itself kills ffmpeg, so the restart log names the real cause. */
  killReason: string | null;
  ended: boolean;
  onEnded: Array<() => void>;
}

interface CameraReaderEvents {
  frame: [CameraFrame];
  restart: [CameraRestart];
}

const spawnFfmpeg: FfmpegSpawner = (command, args) =>
  spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });

const systemClock: ReaderClock = {
  nowMs: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class CameraReader extends EventEmitter<CameraReaderEvents> {
  readonly cameraId: string;
  private readonly sourceKind: 'rtsp' | 'file';
  private readonly args: string[];
  private readonly ffmpegPath: string;
  private readonly watchdogMs: number;
  private readonly startupTimeoutMs: number;
  private readonly healthyAfterMs: number;
  private readonly stopTimeoutMs: number;
  private readonly width: number;
  private readonly height: number;
  private readonly spawner: FfmpegSpawner;
  private readonly clock: ReaderClock;
  private readonly log: Logger;
  private readonly splitter: RawFrameSplitter;
  private readonly stderrTail: LineRingBuffer;
  private readonly backoff: RestartBackoff;

  private state: 'idle' | 'running' | 'stopping' = 'idle';
  private run: ReaderRun | null = null;
  private watchdogTimer: unknown = null;
  private restartTimer: unknown = null;
  private stopping: Promise<void> | null = null;
  private framesIn = 0;
  private restarts = 0;
  private lastFrameAtMs: number | null = null;

  /** Validates the options at once, so a bad source fails here and not inside a restart loop. */
  constructor(options: CameraReaderOptions) {
    super();
    this.cameraId = options.cameraId;
    this.sourceKind = options.source.kind;
    this.args = buildReaderArgs(options);
    this.ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
    this.watchdogMs = positiveMs('watchdogMs', options.watchdogMs ?? 4000);
    this.startupTimeoutMs = positiveMs('startupTimeoutMs', options.startupTimeoutMs ?? 10_000);
    this.healthyAfterMs = positiveMs('healthyAfterMs', options.healthyAfterMs ?? 30_000);
    this.stopTimeoutMs = positiveMs('stopTimeoutMs', options.stopTimeoutMs ?? 3000);
    this.width = options.width;
    this.height = options.height;
    this.spawner = options.spawn ?? spawnFfmpeg;
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? createLogger('video.reader')).child({ cameraId: options.cameraId });
    this.splitter = new RawFrameSplitter(options.width * options.height * 3);
    this.stderrTail = new LineRingBuffer(options.stderrLines ?? 50);
    this.backoff = new RestartBackoff(options.backoff);
  }

  stats(): CameraReaderStats {
    return {
      framesIn: this.framesIn,
      restarts: this.restarts,
      lastFrameAtMs: this.lastFrameAtMs,
      pid: this.run?.child?.pid ?? null,
    };
  }

  /** Starts ffmpeg, unless the reader is already running. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.backoff.reset();
    this.log.info({ sourceKind: this.sourceKind }, 'camera reader started');
    this.startRun();
  }

  /** Stops ffmpeg (SIGTERM, then SIGKILL after stopTimeoutMs) and cancels any pending restart. */
  stop(): Promise<void> {
    if (this.state === 'idle') return Promise.resolve();
    this.stopping ??= this.stopRunning().finally(() => {
      this.state = 'idle';
      this.stopping = null;
      this.log.info({ framesIn: this.framesIn, restarts: this.restarts }, 'camera reader stopped');
    });
    return this.stopping;
  }

  private async stopRunning(): Promise<void> {
    this.state = 'stopping';
    this.cancelTimer('restartTimer');
    this.cancelTimer('watchdogTimer');
    const run = this.run;
    if (run === null || run.ended || run.child === null) return;

    const ended = new Promise<void>((resolve) => run.onEnded.push(resolve));
    run.child.kill('SIGTERM');
    const killTimer = this.clock.setTimeout(() => run.child?.kill('SIGKILL'), this.stopTimeoutMs);
    await ended;
    this.clock.clearTimeout(killTimer);
  }

  private startRun(): void {
    const run: ReaderRun = {
      child: null,
      startedAtMs: this.clock.nowMs(),
      lastFrameAtMs: null,
      frames: 0,
      killReason: null,
      ended: false,
      onEnded: [],
    };
    this.run = run;
    this.splitter.reset();
    this.stderrTail.clear();

    try {
      run.child = this.spawner(this.ffmpegPath, this.args);
    } catch (error) {
      this.endRun(run, `spawn failed: ${errorMessage(error)}`);
      return;
    }

    const child = run.child;
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(run, chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.stderrTail.push(chunk));
    // A pipe error also ends the process, which 'close' reports. These listeners only keep the
    // error from being thrown as unhandled.
    child.stdout?.on('error', (error) => this.log.debug({ err: error }, 'ffmpeg stdout error'));
    child.stderr?.on('error', (error) => this.log.debug({ err: error }, 'ffmpeg stderr error'));
    child.once('error', (error) => this.endRun(run, `spawn failed: ${error.message}`));
    child.once('close', (code, signal) => this.endRun(run, run.killReason ?? describeExit(code, signal)));
    this.armWatchdog(run, this.startupTimeoutMs);
  }

  private onStdout(run: ReaderRun, chunk: Buffer): void {
    if (run !== this.run || this.state !== 'running') return;
    this.splitter.push(chunk, (data) => this.emitFrame(run, data));
  }

  private emitFrame(run: ReaderRun, data: Buffer): void {
    const receivedAtMs = this.clock.nowMs();
    const index = this.framesIn;
    this.framesIn += 1;
    this.lastFrameAtMs = receivedAtMs;
    run.frames += 1;
    run.lastFrameAtMs = receivedAtMs;
    if (run.frames === 1) {
      // The pending timer was set for the longer startup timeout. From now on the gap limit applies.
      this.cancelTimer('watchdogTimer');
      this.armWatchdog(run, this.watchdogMs);
    }
    this.emit('frame', {
      cameraId: this.cameraId,
      index,
      receivedAtMs,
      image: { width: this.width, height: this.height, data },
    });
  }

  /**
   * Checks for progress after `delayMs`. The timer is not re-armed per frame: when it fires
   * early it is set again for the time that remains.
   */
  private armWatchdog(run: ReaderRun, delayMs: number): void {
    this.watchdogTimer = this.clock.setTimeout(() => this.checkWatchdog(run), delayMs);
  }

  private checkWatchdog(run: ReaderRun): void {
    this.watchdogTimer = null;
    if (run !== this.run || run.ended || this.state !== 'running') return;

    const limitMs = run.frames === 0 ? this.startupTimeoutMs : this.watchdogMs;
    const idleMs = this.clock.nowMs() - (run.lastFrameAtMs ?? run.startedAtMs);
    if (idleMs < limitMs) {
      this.armWatchdog(run, limitMs - idleMs);
      return;
    }

    run.killReason =
      run.frames === 0 ? `no frame within ${limitMs} ms of start` : `no frame for ${Math.round(idleMs)} ms`;
    // SIGKILL, because a stopped process does not act on SIGTERM and a blocked ffmpeg may not either.
    run.child?.kill('SIGKILL');
  }

  private endRun(run: ReaderRun, reason: string): void {
    if (run.ended) return;
    run.ended = true;
    if (this.run === run) {
      this.run = null;
      this.cancelTimer('watchdogTimer');
    }
    for (const resolve of run.onEnded) resolve();
    if (this.state !== 'running') return;

    this.scheduleRestart(run, reason);
  }

  private scheduleRestart(run: ReaderRun, reason: string): void {
    const ranMs = this.clock.nowMs() - run.startedAtMs;
    if (run.frames > 0 && ranMs >= this.healthyAfterMs) this.backoff.reset();
    const delayMs = this.backoff.nextDelayMs();
    const attempt = this.backoff.attempt;

    this.log.warn(
      {
        reason: redactCredentials(reason),
        attempt,
        nextDelayMs: delayMs,
        ranMs,
        framesInRun: run.frames,
        stderr: this.stderrTail.snapshot().map(redactCredentials).join('\n'),
      },
      'ffmpeg ended, restarting',
    );
    this.emit('restart', { cameraId: this.cameraId, reason, attempt, delayMs });

    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = null;
      if (this.state !== 'running') return;
      this.restarts += 1;
      this.startRun();
    }, delayMs);
  }

  private cancelTimer(name: 'watchdogTimer' | 'restartTimer'): void {
    if (this[name] === null) return;
    this.clock.clearTimeout(this[name]);
    this[name] = null;
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) return `killed by ${signal}`;
  return `exited with code ${code}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positiveMs(field: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${field} should be a positive number of ms, instead got ${value}`);
  }
  return value;
}
