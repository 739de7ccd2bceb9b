// The hook through which an on-car matcher receives every plate read and face as it is tracked, so a
// hit goes out at once, ahead of the sighting that follows when the track ends. Matching is the
// hook's job; sending the hit event is the pipeline's.
import type { CarMatch } from '../../src/protocol/event.js';
import type { PlateRead } from '../../src/vision/cascade.js';
import type { AnalysedFace } from '../inference/frame-analyser.js';

export type { CarMatch } from '../../src/protocol/event.js';

interface CandidateBase {
  cameraId: string;
  /** Track the read belongs to; the pipeline sends at most one hit per track and match key. */
  trackId: string;
  /** Frame time of the read, ms since the epoch. */
  frameAtMs: number;
}

/** One plate read or one face of one frame, as tracked. Texts and embeddings must not be logged. */
export type CandidateRead = (CandidateBase & { kind: 'plate'; plate: PlateRead }) | (CandidateBase & { kind: 'face'; face: AnalysedFace });

export interface HitHook {
  /**
   * Returns the match for this read, or null. Called in frame order for each camera; the pipeline
   * waits for a returned promise before it tracks that camera's next frame, so keep it quick.
   * A thrown error is logged and counted, and the read is treated as no match.
   */
  onCandidate(read: CandidateRead): CarMatch | null | Promise<CarMatch | null>;
}
