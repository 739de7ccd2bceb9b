// Sends each car its receipts: which events are committed centrally and which were rejected. The
// sequence numbers are batched per car for a few milliseconds, so a busy car gets one message per
// batch instead of one per event.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../common/log.js';
import { MAX_RECEIPT_ENTRIES, RECEIPT_SCHEMA_VERSION, receiptTopic, type Receipt, type RejectedEntry } from '../protocol/receipts.js';

/** Default wait in ms before a car's pending receipt is sent. It is short next to the car's resend timeout. */
export const DEFAULT_RECEIPT_FLUSH_MS = 50;

export interface ReceiptSenderOptions {
  client: MqttClient;
  logger: Logger;
  flushMs?: number;
  /** Called after each receipt message handed to the client, with the number of entries it carries. */
  onSent?: (entries: number) => void;
  /** Called when a receipt could not be sent. The car then resends those events and gets a new receipt. */
  onFailed?: () => void;
}

interface Pending {
  stored: number[];
  rejected: RejectedEntry[];
}

export class ReceiptSender {
  private readonly pending = new Map<string, Pending>();
  private readonly flushMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ReceiptSenderOptions) {
    this.flushMs = options.flushMs ?? DEFAULT_RECEIPT_FLUSH_MS;
  }

  /** Notes an event committed centrally, or found already stored. */
  stored(carId: string, seq: number): void {
    const pending = this.pendingFor(carId);
    pending.stored.push(seq);
    this.schedule(carId, pending);
  }

  /** Notes an event that failed validation and will never be stored. */
  rejected(carId: string, entry: RejectedEntry): void {
    const pending = this.pendingFor(carId);
    pending.rejected.push(entry);
    this.schedule(carId, pending);
  }

  /** Sends every pending receipt now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const carId of [...this.pending.keys()]) this.send(carId);
  }

  /** Sends what is pending and stops the timer. Call it before the client ends. */
  stop(): void {
    this.flush();
  }

  private pendingFor(carId: string): Pending {
    let pending = this.pending.get(carId);
    if (pending === undefined) {
      pending = { stored: [], rejected: [] };
      this.pending.set(carId, pending);
    }
    return pending;
  }

  private schedule(carId: string, pending: Pending): void {
    if (pending.stored.length + pending.rejected.length >= MAX_RECEIPT_ENTRIES) {
      this.send(carId);
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  private send(carId: string): void {
    const pending = this.pending.get(carId);
    this.pending.delete(carId);
    if (pending === undefined || pending.stored.length + pending.rejected.length === 0) return;
    const receipt: Receipt = { v: RECEIPT_SCHEMA_VERSION, carId, stored: pending.stored, rejected: pending.rejected };
    const entries = pending.stored.length + pending.rejected.length;
    const { client, logger } = this.options;
    const failed = (reason: string): void => {
      this.options.onFailed?.();
      logger.warn({ carId, entries, err: reason }, 'receipt could not be sent; the car will resend those events');
    };
    // A receipt that is lost costs one resend of those events, which the store drops as duplicates
    // and receipts again. An ended client (the service is stopping) cannot take it at all.
    if (client.disconnecting || client.disconnected) {
      failed('the MQTT client has ended');
      return;
    }
    try {
      // QoS 1, so the broker keeps it for a car whose session is briefly away.
      client.publish(receiptTopic(carId), JSON.stringify(receipt), { qos: 1 }, (error) => {
        if (error !== undefined && error !== null) failed(error.message);
      });
    } catch (error) {
      failed((error as Error).message);
      return;
    }
    this.options.onSent?.(entries);
  }
}
