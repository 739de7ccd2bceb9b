// The JSON shape of a hit on the page: what the operator needs to decide, without storage fields.
import type { Position } from '../../protocol/event.js';
import type { Hit } from '../hit.js';
import type { HitDecision, StoredHit } from '../store/store.js';

export interface HitView {
  hitId: string;
  kind: Hit['kind'];
  carId: string;
  cameraId: string;
  seq: number;
  /** Hotlist plate of a plate hit. */
  plate: string | null;
  /** Plate as read on the car; differs from `plate` for a tolerant match. */
  readPlate: string | null;
  subjectId: string | null;
  label: string | null;
  /** Reason the plate is on the hotlist. */
  listReason: string | null;
  priority: number | null;
  matchKind: Hit['matchKind'];
  score: number;
  evidence: Hit['evidence'];
  position: Position | null;
  hitAtMs: number;
  /** Frame read on the car until the hit was raised, in ms. */
  frameToHitMs: number;
  repeatCount: number;
  /** Central time of the latest match folded into this hit; the hit's own time until the first repeat. */
  lastSeenAtMs: number;
  decision: HitDecision | null;
}

/** Builds the page's view of a stored hit, or of a hit just raised (open, no repeats yet). */
export function toHitView(hit: Hit | StoredHit): HitView {
  const stored = 'decision' in hit ? hit : null;
  return {
    hitId: hit.hitId,
    kind: hit.kind,
    carId: hit.carId,
    cameraId: hit.cameraId,
    seq: hit.seq,
    plate: hit.matched.plate ?? null,
    readPlate: hit.matched.readPlate ?? null,
    subjectId: hit.matched.subjectId ?? null,
    label: hit.matched.label ?? null,
    listReason: hit.matched.reason ?? null,
    priority: hit.matched.priority ?? null,
    matchKind: hit.matchKind,
    score: hit.score,
    evidence: hit.evidence,
    position: hit.position,
    hitAtMs: hit.hitAtMs,
    frameToHitMs: hit.latency.frameToHitMs,
    repeatCount: stored?.repeatCount ?? 0,
    lastSeenAtMs: stored?.lastSeenAtMs ?? hit.hitAtMs,
    decision: stored?.decision ?? null,
  };
}
