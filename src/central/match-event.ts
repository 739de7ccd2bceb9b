// Matches one validated event against the plate hotlist and the face watchlist.
// Deciding whether a match is a new hit or a repeat is the service's job.
import type { PatrolEvent } from '../protocol/event.js';
import type { Hotlist } from '../matching/hotlist.js';
import type { Watchlist } from '../matching/watchlist.js';
import type { HitCandidate } from './hit.js';

/** Returns the hit candidate for a plate or face event, or null when nothing matched. */
export function matchEvent(event: PatrolEvent, hotlist: Hotlist, watchlist: Watchlist): HitCandidate | null {
  switch (event.kind) {
    case 'plate': {
      const entry = hotlist.match(event.plate.text);
      if (entry === null) return null;
      return {
        kind: 'plate',
        matchKey: `plate:${entry.plate}`,
        matched: { plate: entry.plate, reason: entry.reason, priority: entry.priority },
        matchKind: 'exact',
        score: 1,
      };
    }
    case 'face': {
      const match = watchlist.match(event.face.embedding);
      if (match === null) return null;
      return {
        kind: 'face',
        matchKey: `face:${match.subjectId}`,
        matched: { subjectId: match.subjectId, label: match.label },
        matchKind: 'cosine',
        score: match.score,
      };
    }
    case 'objects':
      return null;
  }
}
