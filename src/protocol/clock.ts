// The clock exchange between a car and the central service over MQTT, as in NTP's on-wire protocol
// (RFC 5905 section 8). The request carries the car's send time and the reply the central receive
// and send times, so the car can compute its offset to the central clock and the round trip.
import { z } from 'zod';
import { TOPIC_ROOT } from './topics.js';

export const CLOCK_SCHEMA_VERSION = 1;

/** Upper bound for one clock message; both kinds are well under 200 bytes. */
export const MAX_CLOCK_BYTES = 1024;

const epochMs = z.number().finite().nonnegative();

export const ClockRequestSchema = z.strictObject({
  v: z.literal(CLOCK_SCHEMA_VERSION),
  /** Request id chosen by the car, so it can pair the reply with its request. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** Car clock when the request was sent (NTP's T1). */
  t1: epochMs,
});

export const ClockReplySchema = z.strictObject({
  v: z.literal(CLOCK_SCHEMA_VERSION),
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  t1: epochMs,
  /** Central clock when the request arrived (NTP's T2). */
  t2: epochMs,
  /** Central clock when the reply was sent (NTP's T3). */
  t3: epochMs,
});

export type ClockRequest = z.infer<typeof ClockRequestSchema>;
export type ClockReply = z.infer<typeof ClockReplySchema>;

export interface ClockSample {
  /** Central clock minus car clock, ms. */
  offsetMs: number;
  /** Network round trip without the central side's processing time, ms. */
  roundTripMs: number;
}

/** Topic a car publishes its clock requests on; under the car's own id, like all it publishes. */
export function clockRequestTopic(carId: string): string {
  return `${TOPIC_ROOT}/cars/${carId}/clock/request`;
}

/** Topic the central service sends a car's clock replies on. */
export function clockReplyTopic(carId: string): string {
  return `${TOPIC_ROOT}/cars/${carId}/clock/reply`;
}

/** Subscription filter for every car's clock requests. */
export const ALL_CLOCK_REQUESTS_FILTER = `${TOPIC_ROOT}/cars/+/clock/request`;

/** Extracts the car id from a clock request topic, or returns null for any other topic. */
export function carIdFromClockRequestTopic(topic: string): string | null {
  const match = /^patrol\/v1\/cars\/([^/]+)\/clock\/request$/.exec(topic);
  return match?.[1] ?? null;
}

/** Computes offset and round trip from a reply and the car's receive time T4 (RFC 5905 section 8). */
export function clockSampleOf(reply: ClockReply, t4: number): ClockSample {
  return {
    offsetMs: (reply.t2 - reply.t1 + (reply.t3 - t4)) / 2,
    roundTripMs: t4 - reply.t1 - (reply.t3 - reply.t2),
  };
}

/** Parses a clock message with the given schema; returns null for anything invalid or oversized. */
export function parseClockMessage<T>(schema: z.ZodType<T>, payload: Uint8Array): T | null {
  if (payload.byteLength > MAX_CLOCK_BYTES) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
