// Matches one validated event against the plate hotlist and the face index.
// Deciding whether a match is a new hit or a repeat is the store's job, inside one transaction.
import type { PatrolEvent } from '../protocol/event.js';
import { normalisePlateText, type Hotlist } from '../matching/hotlist.js';
import type { FaceIndex, FaceMatch } from '../matching/face-index.js';
import type { HitCandidate } from './hit.js';

export interface EventMatch {
  candidate: HitCandidate | null;
  /** Face subjects skipped because the face resembles one of their negatives. */
  suppressed: FaceMatch[];
}

/** Returns the hit candidate for a plate or face event, or null when nothing matched at nowMs. */
export function matchEvent(event: PatrolEvent, hotlist: Hotlist, faceIndex: FaceIndex, nowMs: number): EventMatch {
  switch (event.kind) {
    case 'plate': {
      const found = hotlist.lookup(event.plate.text, nowMs);
      if (found === null) return { candidate: null, suppressed: [] };
      const { entry } = found;
      return {
        candidate: {
          kind: 'plate',
          matchKey: `plate:${entry.plate}`,
          matched: { plate: entry.plate, readPlate: normalisePlateText(event.plate.text), reason: entry.reason, priority: entry.priority },
          matchKind: found.kind,
          score: found.kind === 'exact' ? 1 : event.plate.confidence,
        },
        suppressed: [],
      };
    }
    case 'face': {
      const { match, suppressed } = faceIndex.search(event.face.embedding);
      if (match === null) return { candidate: null, suppressed };
      return {
        candidate: {
          kind: 'face',
          matchKey: `face:${match.subjectId}`,
          matched: { subjectId: match.subjectId, listId: match.listId, label: match.label },
          matchKind: 'cosine',
          score: match.score,
        },
        suppressed,
      };
    }
    case 'objects':
      return { candidate: null, suppressed: [] };
  }
}
