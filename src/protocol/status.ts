// The optional status message a car sends on its status topic: cameras, analysed frame rate and
// outbox backlog, for the command centre's fleet view. Cars that never send it remain valid.
import { z } from 'zod';
import { describeIssues, jsonDepthExceeds } from './event.js';

export const STATUS_SCHEMA_VERSION = 1;

/** Upper bound for one status payload; 32 cameras fit in well under 8 KiB. */
export const MAX_STATUS_BYTES = 16 * 1024;

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -');

export const CameraStatusSchema = z.strictObject({
  cameraId: id,
  state: z.enum(['up', 'down']),
  /** Frames analysed per second on this camera over the last reporting interval. */
  analysedFps: z.number().finite().min(0).max(1000),
});

export const CarStatusMessageSchema = z.strictObject({
  v: z.literal(STATUS_SCHEMA_VERSION),
  kind: z.literal('status'),
  carId: id,
  /** Car clock, ms since the epoch. */
  sentAtMs: z.number().finite().nonnegative(),
  /** Central clock minus car clock in ms, or null when not measured yet. */
  clockOffsetMs: z.number().finite().nullable(),
  cameras: z.array(CameraStatusSchema).max(32),
  /** Events waiting in the outbox: not yet sent, or sent and not yet receipted by the central service. */
  outboxBacklog: z.number().int().nonnegative(),
});

export type CameraStatus = z.infer<typeof CameraStatusSchema>;
export type CarStatusMessage = z.infer<typeof CarStatusMessageSchema>;

export type StatusParseResult =
  | { ok: true; status: CarStatusMessage }
  | { ok: false; rejection: { code: 'STATUS_TOO_LARGE' | 'STATUS_NOT_JSON' | 'STATUS_INVALID' | 'STATUS_TOPIC_MISMATCH'; message: string } };

/** Validates one status payload; rejection messages name fields, never their values. */
export function parseCarStatus(payload: Uint8Array, topicCarId: string | null): StatusParseResult {
  if (payload.byteLength > MAX_STATUS_BYTES) {
    return { ok: false, rejection: { code: 'STATUS_TOO_LARGE', message: `payload should be at most ${MAX_STATUS_BYTES} bytes, instead got ${payload.byteLength}` } };
  }
  if (jsonDepthExceeds(payload, 4)) {
    return { ok: false, rejection: { code: 'STATUS_INVALID', message: 'payload should nest at most 4 levels deep' } };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { ok: false, rejection: { code: 'STATUS_NOT_JSON', message: 'payload should be UTF-8 JSON, instead it could not be parsed' } };
  }
  const parsed = CarStatusMessageSchema.safeParse(json);
  if (!parsed.success) {
    const fields = describeIssues(parsed.error.issues);
    return { ok: false, rejection: { code: 'STATUS_INVALID', message: `payload does not match status schema v${STATUS_SCHEMA_VERSION}: ${fields}` } };
  }
  if (topicCarId !== null && parsed.data.carId !== topicCarId) {
    return { ok: false, rejection: { code: 'STATUS_TOPIC_MISMATCH', message: 'carId in the payload should equal the car id in the topic' } };
  }
  return { ok: true, status: parsed.data };
}
