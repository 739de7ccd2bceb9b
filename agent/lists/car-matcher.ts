// Matches each tracked plate read and face against the car's own list copies, through the
// pipeline's hit hook, so a hit is raised on the car even while it is offline. Sending the hit event
// is the pipeline's job.
import type { Logger } from '../../src/common/log.js';
import type { CarMatch } from '../../src/protocol/event.js';
import type { CarLists } from './car-lists.js';

/**
 * The parts of the pipeline's candidate read (agent/pipeline/hit-hook.ts) that matching needs, so
 * CarMatcher fits the pipeline's HitHook interface without depending on the rest of a read.
 */
export type MatchableRead =
  | { kind: 'plate'; cameraId: string; trackId: string; plate: { text: string; confidence: number } }
  | { kind: 'face'; cameraId: string; trackId: string; face: { embedding: ArrayLike<number> } };

export interface CarMatcherDeps {
  lists: CarLists;
  logger: Logger;
  /** Called once per match, e.g. to count it. */
  onHit?: (kind: 'plate' | 'face', match: CarMatch) => void;
  nowMs?: () => number;
}

export class CarMatcher {
  private readonly nowMs: () => number;

  constructor(private readonly deps: CarMatcherDeps) {
    this.nowMs = deps.nowMs ?? Date.now;
  }

  /** Uses the same rules as the central service: exact or tolerant plates, cosine faces with negatives. */
  onCandidate(read: MatchableRead): CarMatch | null {
    const match = read.kind === 'plate' ? this.matchPlate(read) : this.matchFace(read);
    if (match !== null) this.deps.onHit?.(read.kind, match);
    return match;
  }

  private matchPlate(read: Extract<MatchableRead, { kind: 'plate' }>): CarMatch | null {
    const found = this.deps.lists.hotlist.lookup(read.plate.text, this.nowMs());
    if (found === null) return null;
    const listVersion = this.deps.lists.versions().hotlist;
    // The plate of a hit may be logged; plates that match nothing never are.
    // Debug only: the matcher runs on every read of a track, and the pipeline logs the hit it sends once.
    this.deps.logger.debug({ kind: 'plate', plate: found.entry.plate, matchKind: found.kind, priority: found.entry.priority, camera: read.cameraId, trackId: read.trackId, listVersion }, 'read matches the hotlist');
    return { matchKey: `plate:${found.entry.plate}`, score: found.kind === 'exact' ? 1 : round(read.plate.confidence), listVersion };
  }

  private matchFace(read: Extract<MatchableRead, { kind: 'face' }>): CarMatch | null {
    const { match } = this.deps.lists.faceIndex.search(read.face.embedding);
    if (match === null) return null;
    const listVersion = this.deps.lists.versions().watchlist;
    // The subject id is logged, never the label, which names a person.
    this.deps.logger.debug({ kind: 'face', subjectId: match.subjectId, listId: match.listId, score: round(match.score), camera: read.cameraId, trackId: read.trackId, listVersion }, 'face matches the watchlist');
    return { matchKey: `face:${match.subjectId}`, score: round(match.score), listVersion };
  }
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
