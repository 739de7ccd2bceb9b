// Turns tracked reads into complete plate and face events (text, evidence, position and the
// sighting in one message) and commits them to the outbox. What to send and when is frame-pipeline.ts's job.
import { EVENT_SCHEMA_VERSION, type CarMatch, type Evidence, type PatrolEvent, type Position, type Sighting } from '../../src/protocol/event.js';
import { eventTopic } from '../../src/protocol/topics.js';
import type { PlateRead } from '../../src/vision/cascade.js';
import type { BoxXyxyPx, PointPx } from '../../src/vision/types.js';
import type { AnalysedFace } from '../inference/frame-analyser.js';
import type { SightingSummary } from '../tracking/camera-tracks.js';
import type { Outbox } from '../uplink/outbox.js';

/** Car-clock times of the frame an event's payload and evidence come from, ms since the epoch. */
export interface FrameStamp {
  receivedAtMs: number;
  inferenceStartedAtMs: number;
  analysedAtMs: number;
}

/** The frame behind a read: its times, the car's position then, and its evidence being encoded. */
export interface CapturedView {
  stamp: FrameStamp;
  /** null: the car had no GPS fix; undefined: the car has no GPS receiver configured. */
  position: Position | null | undefined;
  evidence: Promise<Evidence[]>;
}

export interface EventSource {
  carId: string;
  cameraId: string;
  /** Central clock minus car clock, ms, or null while not measured. */
  clockOffsetMs: number | null;
}

/** An event before the outbox assigns its sequence number and commit time. */
type EventDraft = PatrolEvent extends infer E ? (E extends PatrolEvent ? Omit<E, 'seq' | 'committedAtMs'> : never) : never;

/** Most votes an event lists; the schema allows 8. */
const MAX_VOTES = 8;

/** Builds a plate event from a read (geometry, colour, format) and the text and confidence to report. */
export async function plateEvent(source: EventSource, read: PlateRead, vote: { text: string; confidence: number }, view: CapturedView, sighting: Sighting, carMatch: CarMatch | null): Promise<EventDraft> {
  return {
    ...(await baseFields(source, view)),
    kind: 'plate',
    plate: {
      text: vote.text,
      format: read.format,
      color: read.color,
      rows: read.rows,
      confidence: round(vote.confidence, 4),
      box: roundBox(read.box),
      corners: read.corners.map(roundPoint) as [PointPx, PointPx, PointPx, PointPx],
    },
    sighting,
    ...(carMatch === null ? {} : { carMatch }),
  };
}

export async function faceEvent(source: EventSource, face: AnalysedFace, view: CapturedView, sighting: Sighting, carMatch: CarMatch | null): Promise<EventDraft> {
  return {
    ...(await baseFields(source, view)),
    kind: 'face',
    face: {
      box: roundBox(face.box),
      landmarks: face.landmarks.map(roundPoint),
      score: round(face.score, 4),
      quality: round(face.quality, 4),
      embedding: Array.from(face.embedding, (value) => round(value, 5)),
    },
    sighting,
    ...(carMatch === null ? {} : { carMatch }),
  };
}

/** Returns the sighting block of a track summary. */
export function sightingBlock(summary: SightingSummary<unknown>): Sighting {
  const block: Sighting = {
    trackId: summary.trackId,
    state: summary.state,
    firstSeenAtMs: summary.firstSeenAtMs,
    lastSeenAtMs: summary.lastSeenAtMs,
    frames: summary.frames,
    reads: summary.reads,
  };
  if (summary.plate !== null) {
    block.votes = summary.plate.counts.slice(0, MAX_VOTES).map((count) => ({ ...count, confidenceSum: round(count.confidenceSum, 4) }));
  }
  if (summary.face !== null) {
    const parts = summary.face.qualityParts;
    block.faceQuality = { size: round(parts.size, 4), frontalness: round(parts.frontalness, 4), sharpness: round(parts.sharpness, 4) };
  }
  return block;
}

/** Commits one event; a hit found on the car is sent ahead of other events and its evidence is kept. */
export function commitEvent(outbox: Outbox, draft: EventDraft, hit: boolean): number {
  return outbox.append((seq, committedAtMs) => ({ topic: eventTopic(draft.carId), payload: Buffer.from(JSON.stringify({ ...draft, seq, committedAtMs })) }), { hit });
}

async function baseFields(source: EventSource, view: CapturedView) {
  const { stamp } = view;
  return {
    v: EVENT_SCHEMA_VERSION as typeof EVENT_SCHEMA_VERSION,
    carId: source.carId,
    cameraId: source.cameraId,
    frameReceivedAtMs: stamp.receivedAtMs,
    analysedAtMs: stamp.analysedAtMs,
    clockOffsetMs: source.clockOffsetMs,
    stages: {
      queueMs: Math.max(0, stamp.inferenceStartedAtMs - stamp.receivedAtMs),
      inferenceMs: Math.max(0, stamp.analysedAtMs - stamp.inferenceStartedAtMs),
    },
    evidence: await view.evidence,
    ...(view.position === undefined ? {} : { position: view.position }),
  };
}

function roundBox(box: BoxXyxyPx): BoxXyxyPx {
  return [round(box[0], 1), round(box[1], 1), round(box[2], 1), round(box[3], 1)];
}

function roundPoint(point: PointPx): PointPx {
  return [round(point[0], 1), round(point[1], 1)];
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
