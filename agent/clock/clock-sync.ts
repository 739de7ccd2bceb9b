// Measures the car's offset to the central clock over MQTT: a burst of requests after each connect,
// then one per interval. Of the recent samples, the one with the shortest round trip gives the offset,
// because queueing delay on a mobile link is what makes a sample wrong (NTP's clock filter does the same).
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/common/log.js';
import { ClockReplySchema, clockReplyTopic, clockRequestTopic, clockSampleOf, parseClockMessage, type ClockRequest, type ClockSample } from '../../src/protocol/clock.js';

export interface ClockSyncOptions {
  client: MqttClient;
  carId: string;
  logger: Logger;
  intervalMs: number;
  replyTimeoutMs: number;
  /** Requests sent right after each connect, 500 ms apart. Default 4. */
  burst?: number;
  /** Samples kept for the filter. Default 8. */
  window?: number;
  nowMs?: () => number;
  onSample?: (sample: ClockSample, chosen: ClockSample) => void;
}

const BURST_SPACING_MS = 500;

export class ClockSync {
  private readonly nowMs: () => number;
  private readonly pending = new Map<string, number>();
  private readonly samples: ClockSample[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private interval: NodeJS.Timeout | null = null;
  private chosen: ClockSample | null = null;
  private readonly replyTopic: string;
  private readonly onMessage = (topic: string, payload: Buffer): void => {
    if (topic === this.replyTopic) this.onReply(payload);
  };
  private readonly onConnect = (): void => this.sendBurst();

  constructor(private readonly options: ClockSyncOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.replyTopic = clockReplyTopic(options.carId);
  }

  /** Central clock minus car clock in ms from the best recent sample, or null before the first reply. */
  offsetMs(): number | null {
    return this.chosen === null ? null : Math.round(this.chosen.offsetMs);
  }

  /** Returns the sample the offset comes from, or null before the first reply. */
  current(): ClockSample | null {
    return this.chosen;
  }

  start(): void {
    const { client } = this.options;
    client.on('message', this.onMessage);
    client.on('connect', this.onConnect);
    // mqtt.js resubscribes after a reconnect, so one subscription is enough.
    client.subscribe(this.replyTopic, { qos: 0 });
    if (client.connected) this.sendBurst();
    this.interval = setInterval(() => this.sendRequest(), this.options.intervalMs);
  }

  stop(): void {
    const { client } = this.options;
    client.off('message', this.onMessage);
    client.off('connect', this.onConnect);
    if (this.interval !== null) clearInterval(this.interval);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private sendBurst(): void {
    const burst = this.options.burst ?? 4;
    for (let i = 0; i < burst; i++) this.later(() => this.sendRequest(), i * BURST_SPACING_MS);
  }

  private sendRequest(): void {
    const { client } = this.options;
    if (!client.connected) return;
    const request: ClockRequest = { v: 1, id: randomUUID(), t1: this.nowMs() };
    this.pending.set(request.id, request.t1);
    this.later(() => this.pending.delete(request.id), this.options.replyTimeoutMs);
    client.publish(clockRequestTopic(this.options.carId), JSON.stringify(request), { qos: 0 });
  }

  private onReply(payload: Buffer): void {
    const t4 = this.nowMs();
    const reply = parseClockMessage(ClockReplySchema, payload);
    if (reply === null) {
      this.options.logger.warn('invalid clock reply ignored');
      return;
    }
    // A reply to no pending request is late (past replyTimeoutMs) or not ours, so it is dropped.
    const sentAtMs = this.pending.get(reply.id);
    if (sentAtMs === undefined || sentAtMs !== reply.t1) return;
    this.pending.delete(reply.id);

    const sample = clockSampleOf(reply, t4);
    this.samples.push(sample);
    if (this.samples.length > (this.options.window ?? 8)) this.samples.shift();
    const first = this.chosen === null;
    this.chosen = this.samples.reduce((best, candidate) => (candidate.roundTripMs < best.roundTripMs ? candidate : best));
    this.options.onSample?.(sample, this.chosen);
    if (first) this.options.logger.info({ offsetMs: Math.round(this.chosen.offsetMs), roundTripMs: Math.round(this.chosen.roundTripMs) }, 'clock offset to the central service measured');
  }

  private later(action: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, delayMs);
    this.timers.add(timer);
  }
}
