// The versioned event a car sends to the central service, and its validation. The agent builds
// events with these types; the central service accepts only what parseEvent accepts.
import { z } from 'zod';

export const EVENT_SCHEMA_VERSION = 1;

/** Upper bound for one MQTT event payload; evidence JPEGs are capped well below it. */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Deepest JSON nesting accepted; a valid event nests 4 deep (event, plate, corners, point). Deeper
 * payloads are rejected before JSON.parse, which spends milliseconds on a deeply nested hostile one.
 */
export const MAX_EVENT_JSON_DEPTH = 8;

const finiteMs = z.number().finite().nonnegative();
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -');
const point = z.tuple([z.number().finite(), z.number().finite()]);
/** Axis-aligned box in source-frame pixels: [x1, y1, x2, y2]. */
const boxXyxyPx = z.tuple([z.number().finite(), z.number().finite(), z.number().finite(), z.number().finite()]);

export const PlateColorSchema = z.enum(['black', 'blue', 'green', 'white', 'yellow']);

export const PlatePayloadSchema = z.strictObject({
  text: z.string().min(2).max(16),
  format: z.string().max(32),
  color: PlateColorSchema,
  rows: z.union([z.literal(1), z.literal(2)]),
  confidence: z.number().min(0).max(1),
  box: boxXyxyPx,
  corners: z.tuple([point, point, point, point]),
});

export const FacePayloadSchema = z.strictObject({
  box: boxXyxyPx,
  landmarks: z.array(point).length(5),
  score: z.number().min(0).max(1),
  quality: z.number().min(0).max(1),
  /** L2-normalised 128-d embedding. */
  embedding: z.array(z.number().finite().min(-1).max(1)).length(128),
});

export const ObjectPayloadSchema = z.strictObject({
  label: z.enum(['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck']),
  box: boxXyxyPx,
  score: z.number().min(0).max(1),
});

/** Evidence image: base64 JPEG, capped so an event always fits one MQTT message. */
export const EvidenceSchema = z.strictObject({
  kind: z.enum(['plate-crop', 'face-crop', 'context']),
  jpegBase64: z
    .string()
    .max(96 * 1024)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'should be standard base64')
    .refine((text) => text.length % 4 === 0, 'should be padded base64 (length a multiple of 4)')
    // Every JPEG starts with the bytes FF D8 FF, which base64 writes as "/9j/".
    .refine((text) => text.startsWith('/9j/'), 'should be a JPEG (base64 starting with /9j/)'),
});

/** Car position when the frame was read (WGS 84), from the car's GNSS receiver. */
export const PositionSchema = z.strictObject({
  latitude: z.number().finite().min(-90).max(90),
  longitude: z.number().finite().min(-180).max(180),
  /** Estimated horizontal error (gpsd's eph, 95% confidence), m. */
  accuracyM: z.number().finite().nonnegative().optional(),
  /** Car clock, ms since the epoch, when the receiver took this fix. */
  fixAtMs: z.number().finite().nonnegative().optional(),
});

/** Stage durations measured on the car, in ms. */
export const CarStagesSchema = z.strictObject({
  /** Frame received from ffmpeg until inference started. */
  queueMs: finiteMs,
  /** Inference of the whole cascade on that frame. */
  inferenceMs: finiteMs,
});

const eventBase = {
  v: z.literal(EVENT_SCHEMA_VERSION),
  carId: id,
  seq: z.number().int().positive(),
  cameraId: id,
  /** Car clock, ms since the epoch, when the frame was fully read from ffmpeg. */
  frameReceivedAtMs: finiteMs,
  /** Car clock, ms since the epoch, when analysis of the frame finished. */
  analysedAtMs: finiteMs,
  /** Car clock, ms since the epoch, when the event was committed to the outbox. */
  committedAtMs: finiteMs,
  /** Central clock minus car clock in ms, or null when not measured yet. */
  clockOffsetMs: z.number().finite().nullable(),
  stages: CarStagesSchema,
  evidence: z.array(EvidenceSchema).max(2),
  /**
   * Car position: null when the car's GNSS receiver had no current fix, absent when the car has no
   * receiver configured (or its agent predates this field).
   */
  position: PositionSchema.nullable().optional(),
};

/** Reads of one plate text within a sighting. */
export const PlateVoteSchema = z.strictObject({
  text: z.string().min(2).max(16),
  reads: z.number().int().positive(),
  /** Sum of the reads' confidences; the text with the largest sum wins the vote. */
  confidenceSum: z.number().finite().nonnegative(),
});

/**
 * One tracked vehicle or person, summarised over the frames it was seen in. An event with this
 * block stands for the whole track: its plate text is the vote over all reads, its face the best one.
 */
export const SightingSchema = z
  .strictObject({
    /** Track id, unique per car and camera. */
    trackId: id,
    /** 'closed' once the track ended; 'open' for a hit sent at once or an update of a long track. */
    state: z.enum(['open', 'closed']),
    /** Car clock, ms since the epoch, of the first and last frame the vehicle or person was seen in. */
    firstSeenAtMs: finiteMs,
    lastSeenAtMs: finiteMs,
    /** Analysed frames in which the vehicle or person was detected. */
    frames: z.number().int().positive(),
    /** Of those, frames with a plate read (plate events) or a face (face events). */
    reads: z.number().int().nonnegative(),
    /** Plate sightings: the texts read, by descending confidence sum, at most 8. */
    votes: z.array(PlateVoteSchema).max(8).optional(),
    /** Face sightings: the parts of the best face's quality score, each 0..1. */
    faceQuality: z
      .strictObject({ size: z.number().min(0).max(1), frontalness: z.number().min(0).max(1), sharpness: z.number().min(0).max(1) })
      .optional(),
  })
  .refine((sighting) => sighting.firstSeenAtMs <= sighting.lastSeenAtMs, { message: 'firstSeenAtMs should not be after lastSeenAtMs', path: ['lastSeenAtMs'] });

/** A match the car found against its own copy of the hotlist or watchlist. */
export const CarMatchSchema = z.strictObject({
  /** Matched entry, as `plate:<text>` or `face:<subject id>`. */
  matchKey: z.string().min(1).max(128),
  /** 1 for an exact plate match, the cosine similarity for a face. */
  score: z.number().finite().min(-1).max(1),
  /** Version of the list the car matched against. */
  listVersion: z.number().int().nonnegative().optional(),
});

/** Fields a plate or face event may add; events without them are single-frame reads, as in schema v1's first release. */
const trackedFields = {
  sighting: SightingSchema.optional(),
  carMatch: CarMatchSchema.optional(),
};

export const PlateEventSchema = z.strictObject({ ...eventBase, ...trackedFields, kind: z.literal('plate'), plate: PlatePayloadSchema });
export const FaceEventSchema = z.strictObject({ ...eventBase, ...trackedFields, kind: z.literal('face'), face: FacePayloadSchema });
export const ObjectsEventSchema = z.strictObject({
  ...eventBase,
  kind: z.literal('objects'),
  objects: z.array(ObjectPayloadSchema).max(200),
});

export const EventSchema = z.discriminatedUnion('kind', [PlateEventSchema, FaceEventSchema, ObjectsEventSchema]);

export type PatrolEvent = z.infer<typeof EventSchema>;
export type PlateEvent = z.infer<typeof PlateEventSchema>;
export type FaceEvent = z.infer<typeof FaceEventSchema>;
export type ObjectsEvent = z.infer<typeof ObjectsEventSchema>;
export type PlatePayload = z.infer<typeof PlatePayloadSchema>;
export type FacePayload = z.infer<typeof FacePayloadSchema>;
export type Evidence = z.infer<typeof EvidenceSchema>;
export type Position = z.infer<typeof PositionSchema>;
export type Sighting = z.infer<typeof SightingSchema>;
export type PlateVote = z.infer<typeof PlateVoteSchema>;
export type CarMatch = z.infer<typeof CarMatchSchema>;

export type EventRejection =
  | { code: 'EVENT_TOO_LARGE'; message: string }
  | { code: 'EVENT_NOT_JSON'; message: string }
  | { code: 'EVENT_INVALID'; message: string }
  | { code: 'EVENT_TOPIC_MISMATCH'; message: string };

export type ParseResult = { ok: true; event: PatrolEvent } | { ok: false; rejection: EventRejection };

/**
 * Validates one MQTT payload. The rejection message names the offending fields but never repeats
 * their values, because payloads may carry plate texts and embeddings.
 */
export function parseEvent(payload: Uint8Array, topicCarId: string | null): ParseResult {
  if (payload.byteLength > MAX_EVENT_BYTES) {
    return reject('EVENT_TOO_LARGE', `payload should be at most ${MAX_EVENT_BYTES} bytes, instead got ${payload.byteLength}`);
  }
  if (jsonDepthExceeds(payload, MAX_EVENT_JSON_DEPTH)) {
    return reject('EVENT_INVALID', `payload should nest at most ${MAX_EVENT_JSON_DEPTH} levels deep`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return reject('EVENT_NOT_JSON', 'payload should be UTF-8 JSON, instead it could not be parsed');
  }
  const parsed = EventSchema.safeParse(json);
  if (!parsed.success) {
    const fields = describeIssues(parsed.error.issues);
    return reject('EVENT_INVALID', `payload does not match event schema v${EVENT_SCHEMA_VERSION}: ${fields}`);
  }
  if (topicCarId !== null && parsed.data.carId !== topicCarId) {
    return reject('EVENT_TOPIC_MISMATCH', 'carId in the payload should equal the car id in the topic');
  }
  return { ok: true, event: parsed.data };
}

function reject(code: EventRejection['code'], message: string): ParseResult {
  return { ok: false, rejection: { code, message } as EventRejection };
}

/** Lists the first five schema problems as `field: message`, naming fields and never their values. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** True when the JSON text nests objects and arrays deeper than maxDepth, ignoring brackets inside strings. */
export function jsonDepthExceeds(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped character
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (byte === 0x7d || byte === 0x5d) {
      depth--;
    }
  }
  return false;
}
