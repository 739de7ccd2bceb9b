// The hit the central service raises when an event matches the hotlist or the watchlist, and the
// per-stage latency it carries. Matching lives in match-event.ts, storage in store/.
import type { Evidence, PatrolEvent, Position } from '../protocol/event.js';

export type HitKind = 'plate' | 'face';
/** 'exact' and 'tolerant' are plate matches (tolerant allows OCR confusions); 'cosine' is a face match. */
export type MatchKind = 'exact' | 'tolerant' | 'cosine';

export interface HitMatched {
  /** Hotlist entry's plate, normalised. */
  plate?: string;
  /** The plate as read on the car, normalised; differs from plate for a tolerant match. */
  readPlate?: string;
  reason?: string;
  priority?: number;
  subjectId?: string;
  /** Face list the subject belongs to. */
  listId?: string;
  label?: string;
}

/** Stage durations from the frame to the hit, in ms. */
export interface HitLatency {
  /** Frame read on the car until the hit was raised, both on the central clock when the offset is known. */
  frameToHitMs: number;
  /** Frame read until inference started, measured on the car. */
  queueMs: number;
  /** Inference of the cascade on the frame, measured on the car. */
  inferenceMs: number;
  /** Analysis finished until the event was committed to the car's outbox. */
  outboxMs: number;
  /**
   * Outbox commit until the central service received the event. Corrected by the event's
   * clockOffsetMs when present, otherwise it includes the clock skew and may be negative.
   */
  uplinkMs: number;
  /** Central receive until the hit was raised. */
  centralMs: number;
}

export interface Hit {
  hitId: string;
  kind: HitKind;
  carId: string;
  cameraId: string;
  seq: number;
  matched: HitMatched;
  matchKind: MatchKind;
  /** 1 for an exact plate match, the reader's confidence for a tolerant one, the cosine similarity for a face match. */
  score: number;
  evidence: Evidence[];
  /** Car position when the frame was read, when the car sent one. */
  position: Position | null;
  /** Car clock, ms since the epoch, as sent in the event. */
  frameReceivedAtMs: number;
  /** Central clock, ms since the epoch. */
  centralReceivedAtMs: number;
  /** Central clock, ms since the epoch. */
  hitAtMs: number;
  latency: HitLatency;
}

/** Match found for one event, before it becomes a new hit or a repeat of an earlier one. */
export interface HitCandidate {
  kind: HitKind;
  /** Identifies the matched entry, so repeats of the same entry from the same car can be folded. */
  matchKey: string;
  matched: HitMatched;
  matchKind: MatchKind;
  score: number;
}

/**
 * Computes the stage latencies of an event that became a hit at hitAtMs (central clock). The clock
 * offset defaults to the event's own; the service passes the car's last reported one when it has none.
 */
export function computeHitLatency(event: PatrolEvent, centralReceivedAtMs: number, hitAtMs: number, clockOffsetMs = event.clockOffsetMs): HitLatency {
  const carToCentralMs = clockOffsetMs ?? 0;
  return {
    frameToHitMs: hitAtMs - (event.frameReceivedAtMs + carToCentralMs),
    queueMs: event.stages.queueMs,
    inferenceMs: event.stages.inferenceMs,
    outboxMs: event.committedAtMs - event.analysedAtMs,
    uplinkMs: centralReceivedAtMs - (event.committedAtMs + carToCentralMs),
    centralMs: hitAtMs - centralReceivedAtMs,
  };
}

/** Builds a hit for an event and the candidate that matching found for it. */
export function buildHit(
  hitId: string,
  event: PatrolEvent,
  candidate: HitCandidate,
  times: { centralReceivedAtMs: number; hitAtMs: number; clockOffsetMs?: number | null },
): Hit {
  return {
    hitId,
    kind: candidate.kind,
    carId: event.carId,
    cameraId: event.cameraId,
    seq: event.seq,
    matched: candidate.matched,
    matchKind: candidate.matchKind,
    score: candidate.score,
    evidence: event.evidence,
    position: event.position ?? null,
    frameReceivedAtMs: event.frameReceivedAtMs,
    centralReceivedAtMs: times.centralReceivedAtMs,
    hitAtMs: times.hitAtMs,
    latency: computeHitLatency(event, times.centralReceivedAtMs, times.hitAtMs, times.clockOffsetMs === undefined ? event.clockOffsetMs : times.clockOffsetMs),
  };
}
