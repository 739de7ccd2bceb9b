// Sends the outbox to the broker with QoS 1, hits found on the car first and the rest in sequence
// order, and deletes each event only after its PUBACK. While the link is down nothing is handed to
// the MQTT client, so memory stays bounded and the outbox alone keeps the backlog.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/common/log.js';
import type { Outbox } from './outbox.js';

export interface PublisherOptions {
  client: MqttClient;
  outbox: Outbox;
  logger: Logger;
  /** Maximum events handed to the client and not yet acknowledged. */
  maxInFlight?: number;
  /** Called with the sequence number and the time the PUBACK arrived. */
  onAcked?: (seq: number, ackedAtMs: number) => void;
  nowMs?: () => number;
}

export class Publisher {
  private readonly inFlight = new Set<number>();
  private readonly maxInFlight: number;
  private readonly nowMs: () => number;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  ackedCount = 0;

  constructor(private readonly options: PublisherOptions) {
    this.maxInFlight = options.maxInFlight ?? 32;
    this.nowMs = options.nowMs ?? Date.now;
    options.client.on('connect', () => {
      // Events in flight when the link dropped are resent by mqtt.js from its outgoing store on
      // reconnect (mqtt 5.x), so they stay in the in-flight set and only the others are dispatched.
      this.pump();
    });
  }

  /** Hands waiting events to the client; call after each append and on reconnect. */
  pump(): void {
    const { client, outbox } = this.options;
    if (this.stopped || !client.connected) return;
    const room = this.maxInFlight - this.inFlight.size;
    // A full window still lets a waiting hit through, so a hit never queues behind sightings.
    const rows = room > 0 ? outbox.nextToSend(this.inFlight, room) : outbox.nextToSend(this.inFlight, 1).filter((row) => row.hit);
    for (const row of rows) {
      this.inFlight.add(row.seq);
      client.publish(row.topic, row.payload, { qos: 1 }, (error) => this.onPublished(row.seq, error));
    }
    this.notifyIfIdle();
  }

  /** Resolves once the outbox is empty and nothing is in flight, or after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.isIdle()), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private onPublished(seq: number, error: Error | undefined): void {
    this.inFlight.delete(seq);
    if (error) {
      // The event stays in the outbox and the next pump sends it again. The central side drops a
      // duplicate by car id and sequence number.
      this.options.logger.warn({ seq, err: error.message }, 'publish failed; event stays in the outbox');
      return;
    }
    this.options.outbox.remove(seq);
    this.ackedCount++;
    this.options.onAcked?.(seq, this.nowMs());
    this.pump();
  }

  private isIdle(): boolean {
    return this.inFlight.size === 0 && this.options.outbox.stats().depth === 0;
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
