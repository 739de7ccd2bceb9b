// Receipts: the central service sends a car the sequence numbers of its events that are committed to
// the central store, so the car deletes an event only when it is safe centrally, not when the broker
// took it. A broker
// that drops messages queued for an offline central session then costs a resend, not an event.
//
// NOTE: receipts are not signed. Their trust rests on the broker's ACL, which lets only the central
// service publish on a car's receipt topic (deploy/mosquitto/patrol.acl). On a broker without that ACL
// (the demo's embedded broker, a default Mosquitto) any client could forge a receipt and make a car
// delete events it has sent but the central service has not stored.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeIssues, jsonDepthExceeds } from './event.js';
import { TOPIC_ROOT } from './topics.js';

export const RECEIPT_SCHEMA_VERSION = 1;

/** Maximum sequence numbers in one receipt. The sender splits larger batches. */
export const MAX_RECEIPT_ENTRIES = 1000;

/** Maximum size of one receipt payload. 1000 rejections with codes and digests take about 80 KiB. */
export const MAX_RECEIPT_BYTES = 128 * 1024;

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -');
const seq = z.number().int().positive();

export const RejectedEntrySchema = z.strictObject({
  seq,
  /** The central service's rejection code, for example EVENT_INVALID. */
  code: z.string().regex(/^[A-Z_]{1,40}$/),
  /** payloadDigest() of the rejected payload, so a car sets aside only the event it actually sent. */
  digest: z.string().regex(/^[0-9a-f]{16}$/),
});

export const ReceiptSchema = z.strictObject({
  v: z.literal(RECEIPT_SCHEMA_VERSION),
  carId: id,
  /** Events committed centrally, including ones that were already stored (duplicates). */
  stored: z.array(seq).max(MAX_RECEIPT_ENTRIES),
  /** Events the central service will never store, because they failed validation. */
  rejected: z.array(RejectedEntrySchema).max(MAX_RECEIPT_ENTRIES),
});

export type Receipt = z.infer<typeof ReceiptSchema>;
export type RejectedEntry = z.infer<typeof RejectedEntrySchema>;

/** Topic the central service sends a car its receipts on. */
export function receiptTopic(carId: string): string {
  return `${TOPIC_ROOT}/cars/${carId}/receipts`;
}

/** Returns the first 16 hex digits of the payload's sha256, which identify the exact bytes a rejection refers to. */
export function payloadDigest(payload: Uint8Array): string {
  return createHash('sha256').update(payload).digest('hex').slice(0, 16);
}

export type ReceiptParseResult = { ok: true; receipt: Receipt } | { ok: false; message: string };

/** Validates one receipt payload addressed to `carId`. Error messages name fields, never their values. */
export function parseReceipt(payload: Uint8Array, carId: string): ReceiptParseResult {
  if (payload.byteLength > MAX_RECEIPT_BYTES) return { ok: false, message: `receipt should be at most ${MAX_RECEIPT_BYTES} bytes, instead got ${payload.byteLength}` };
  if (jsonDepthExceeds(payload, 4)) return { ok: false, message: 'receipt should nest at most 4 levels deep' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { ok: false, message: 'receipt should be UTF-8 JSON, instead it could not be parsed' };
  }
  const parsed = ReceiptSchema.safeParse(json);
  if (!parsed.success) {
    const fields = describeIssues(parsed.error.issues);
    return { ok: false, message: `receipt does not match schema v${RECEIPT_SCHEMA_VERSION}: ${fields}` };
  }
  if (parsed.data.carId !== carId) return { ok: false, message: `receipt is addressed to another car (carId differs from ${carId})` };
  return { ok: true, receipt: parsed.data };
}

/**
 * Returns the sequence number of an event the central service rejected, for the rejection receipt.
 * Returns null when the payload is not a JSON object with a positive integer `seq`.
 */
export function rejectedSeqOf(payload: Uint8Array): number | null {
  if (jsonDepthExceeds(payload, 64)) return null;
  try {
    const json: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
    const value = (json as Record<string, unknown>)['seq'];
    return seq.safeParse(value).success ? (value as number) : null;
  } catch {
    return null;
  }
}
