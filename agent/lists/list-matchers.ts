// Turns the items of a verified list copy into the matchers the central service uses too: a Hotlist
// for plates and a FaceIndex for faces (lists with thresholds, subjects, negatives).
import { FaceIndex, type FaceIndexList, type FaceIndexNegative, type FaceIndexSubject } from '../../src/matching/face-index.js';
import { Hotlist, type HotlistEntry } from '../../src/matching/hotlist.js';
import { embeddingsFromBase64, type HotlistItem, type WatchlistItem } from '../../src/protocol/lists.js';

/** Builds the plate matcher; throws HotlistError when two items share a normalised plate. */
export function buildHotlist(items: ReadonlyMap<string, HotlistItem>): Hotlist {
  const entries: HotlistEntry[] = [...items.values()].map((item) => ({ plate: item.plate, reason: item.reason, priority: item.priority, expiresAtMs: item.expiresAtMs }));
  return new Hotlist(entries);
}

/** Builds the face matcher; throws WatchlistError for a subject of an unknown list or without embeddings. */
export function buildFaceIndex(items: ReadonlyMap<string, WatchlistItem>): FaceIndex {
  const lists: FaceIndexList[] = [];
  const subjects: FaceIndexSubject[] = [];
  const negatives: FaceIndexNegative[] = [];
  // Negatives carry no size of their own; they share their subject's embedding size.
  const dimensionBySubject = new Map<string, number>();
  for (const item of items.values()) if (item.type === 'subject') dimensionBySubject.set(item.subjectId, item.dimension);
  for (const item of items.values()) {
    switch (item.type) {
      case 'list':
        lists.push({ listId: item.listId, threshold: item.threshold });
        break;
      case 'subject':
        subjects.push({ subjectId: item.subjectId, listId: item.listId, label: item.label, embeddings: embeddingsFromBase64(item.embeddingsBase64, item.dimension) });
        break;
      case 'negative': {
        const [embedding] = embeddingsFromBase64(item.embeddingBase64, dimensionBySubject.get(item.subjectId) ?? 0);
        if (embedding !== undefined) negatives.push({ subjectId: item.subjectId, embedding });
        break;
      }
    }
  }
  return new FaceIndex({ lists, subjects, negatives });
}
