// Sends the outbox to the broker with QoS 1, hits found on the car first and the rest in sequence
// order. While the link is down nothing is handed to the MQTT client, so memory stays bounded and the
// outbox alone keeps the backlog.
//
// When an event is deleted depends on the mode. With receipts (the default) the broker's PUBACK only
// marks the event sent. The central service's receipt deletes it. An event whose receipt does not
// come within the timeout is sent again. A broker that drops messages queued for an offline central
// session, or a central store that fails, then costs a resend instead of an event. Without receipts
// (broker-ack mode, for a central side that sends none) the PUBACK deletes the event.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/common/log.js';
import { LogThrottle } from '../../src/common/log-throttle.js';
import { payloadDigest, type Receipt } from '../../src/protocol/receipts.js';
import type { Outbox } from './outbox.js';

export interface ReceiptOptions {
  /** Time after the PUBACK within which the central receipt is expected. After it the event is sent again. */
  timeoutMs: number;
}

/**
 * Largest factor the receipt timeout grows to while no receipt comes at all, so a long central outage
 * costs a resend every few minutes instead of every timeout (30 s becomes at most 4 min).
 */
export const MAX_RECEIPT_BACKOFF = 8;

/** Minimum time between two log lines about resends. */
const RESEND_LOG_INTERVAL_MS = 60_000;

export interface PublisherOptions {
  client: MqttClient;
  outbox: Outbox;
  logger: Logger;
  /** Maximum events handed to the client and not yet acknowledged. */
  maxInFlight?: number;
  /** Receipt settings. When present, events wait for the central receipt. When absent, the PUBACK deletes them. */
  receipts?: ReceiptOptions;
  /** Called with the sequence number and the time the PUBACK arrived. */
  onAcked?: (seq: number, ackedAtMs: number) => void;
  /** Called for each event a receipt confirmed as stored centrally (receipt mode only). */
  onConfirmed?: (seq: number) => void;
  /** Called with the number of events sent again because their receipt was overdue. */
  onResent?: (count: number) => void;
  /** Called for each event the central service rejected and the outbox set aside. */
  onQuarantined?: (seq: number, code: string) => void;
  /** Called for a rejection receipt that names no event of this outbox (wrong sequence number or digest). */
  onUnmatchedRejection?: () => void;
  nowMs?: () => number;
}

export class Publisher {
  private readonly inFlight = new Set<number>();
  private readonly maxInFlight: number;
  private readonly nowMs: () => number;
  private readonly resendTimer: NodeJS.Timeout | null;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  /** Current receipt timeout: the configured one, doubled after each resend round that got no receipt. */
  private receiptTimeoutMs: number;
  private receiptSinceResend = true;
  private readonly resendLog: LogThrottle;
  ackedCount = 0;
  confirmedCount = 0;

  constructor(private readonly options: PublisherOptions) {
    this.maxInFlight = options.maxInFlight ?? 32;
    this.nowMs = options.nowMs ?? Date.now;
    this.receiptTimeoutMs = options.receipts?.timeoutMs ?? 0;
    this.resendLog = new LogThrottle(RESEND_LOG_INTERVAL_MS, this.nowMs);
    options.client.on('connect', () => {
      // Events in flight when the link dropped are resent by mqtt.js from its outgoing store on
      // reconnect (mqtt 5.x), so they stay in the in-flight set and only the others are dispatched.
      this.pump();
    });
    const receipts = options.receipts;
    if (receipts === undefined) {
      this.resendTimer = null;
    } else {
      // Overdue receipts are looked for a few times per timeout, so a resend is at most a quarter late.
      this.resendTimer = setInterval(() => this.pump(), Math.max(250, receipts.timeoutMs / 4));
      this.resendTimer.unref();
    }
  }

  /** Hands waiting events to the client; call after each append, on reconnect and on each receipt. */
  pump(): void {
    const { client, outbox } = this.options;
    if (this.stopped || !client.connected) return;
    const resendBefore = this.options.receipts === undefined ? undefined : this.nowMs() - this.receiptTimeoutMs;
    const room = this.maxInFlight - this.inFlight.size;
    // A full window still lets a waiting hit through, so a hit never queues behind sightings.
    const rows = room > 0 ? outbox.nextToSend(this.inFlight, room, resendBefore) : outbox.nextToSend(this.inFlight, 1, resendBefore).filter((row) => row.hit);
    const resent = rows.filter((row) => row.sentAtMs !== null).length;
    if (resent > 0) {
      const resentSinceLastLine = this.resendLog.take('', resent);
      if (resentSinceLastLine !== null) {
        this.options.logger.warn({ resent: resentSinceLastLine, timeoutMs: this.receiptTimeoutMs }, 'no receipt from the central service in time; sending those events again');
      }
      this.options.onResent?.(resent);
      this.backOffIfNoReceipt();
    }
    for (const row of rows) {
      this.inFlight.add(row.seq);
      client.publish(row.topic, row.payload, { qos: 1 }, (error) => this.onPublished(row.seq, error));
    }
    this.notifyIfIdle();
  }

  /** Applies a receipt from the central service: stored events are deleted, rejected ones set aside. */
  applyReceipt(receipt: Receipt): void {
    const { outbox, logger } = this.options;
    let confirmed = 0;
    for (const seq of receipt.stored) {
      // A second receipt for the same event (after a resend) finds the row gone and counts nothing,
      // and a receipt for an event not yet sent is not genuine.
      if (!outbox.confirmStored(seq)) continue;
      confirmed++;
      this.confirmedCount++;
      this.options.onConfirmed?.(seq);
    }
    // Only a receipt that deleted something shows the central service is back; an empty or stale one
    // leaves the backoff as it is.
    if (confirmed > 0) {
      this.receiptSinceResend = true;
      this.receiptTimeoutMs = this.options.receipts?.timeoutMs ?? 0;
    }
    for (const rejected of receipt.rejected) {
      const moved = outbox.quarantine(rejected.seq, rejected.code, (payload) => payloadDigest(payload) === rejected.digest);
      if (moved) {
        logger.error({ seq: rejected.seq, code: rejected.code }, 'the central service rejected an event; it is kept in the outbox quarantine table and not sent again');
        this.options.onQuarantined?.(rejected.seq, rejected.code);
      } else {
        logger.warn({ seq: rejected.seq, code: rejected.code }, 'rejection receipt ignored: no event in the outbox has that sequence number and digest');
        this.options.onUnmatchedRejection?.();
      }
    }
    this.pump();
  }

  /** Current receipt timeout in ms, after any backoff; 0 without receipts. */
  get currentReceiptTimeoutMs(): number {
    return this.receiptTimeoutMs;
  }

  /** Doubles the receipt timeout, up to MAX_RECEIPT_BACKOFF times the configured one, when the last resend round got no receipt either. */
  private backOffIfNoReceipt(): void {
    const base = this.options.receipts?.timeoutMs ?? 0;
    if (!this.receiptSinceResend) this.receiptTimeoutMs = Math.min(this.receiptTimeoutMs * 2, base * MAX_RECEIPT_BACKOFF);
    this.receiptSinceResend = false;
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
    if (this.resendTimer !== null) clearInterval(this.resendTimer);
  }

  private onPublished(seq: number, error: Error | undefined): void {
    this.inFlight.delete(seq);
    if (error) {
      // The event stays in the outbox and the next pump sends it again. The central side drops a
      // duplicate by car id and sequence number.
      this.options.logger.warn({ seq, err: error.message }, 'publish failed; event stays in the outbox');
      return;
    }
    const ackedAtMs = this.nowMs();
    if (this.options.receipts === undefined) this.options.outbox.remove(seq);
    else this.options.outbox.markSent(seq, ackedAtMs);
    this.ackedCount++;
    this.options.onAcked?.(seq, ackedAtMs);
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
