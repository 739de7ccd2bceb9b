// Turns stored hotlist entries and watchlist rows into the keyed items cars receive. Keys are the
// ones the store uses for list changes: the plate, or a subject:, list: or negative: prefix.
import type { HotlistItem, WatchlistItem } from '../../protocol/lists.js';
import { embeddingsToBase64 } from '../../protocol/lists.js';
import type { FaceList, FaceNegative, StoredHotlistEntry, StoredSubject } from '../store/store.js';

export function hotlistItems(entries: readonly StoredHotlistEntry[]): Map<string, HotlistItem> {
  return new Map(entries.map((entry) => [entry.plate, { plate: entry.plate, reason: entry.reason, priority: entry.priority, expiresAtMs: entry.expiresAtMs }]));
}

export function watchlistItems(lists: readonly FaceList[], subjects: readonly StoredSubject[], negatives: readonly FaceNegative[]): Map<string, WatchlistItem> {
  const items = new Map<string, WatchlistItem>();
  for (const list of lists) items.set(`list:${list.listId}`, { type: 'list', listId: list.listId, threshold: list.threshold });
  for (const subject of subjects) {
    items.set(`subject:${subject.subjectId}`, {
      type: 'subject',
      subjectId: subject.subjectId,
      listId: subject.listId,
      label: subject.label,
      dimension: subject.embeddings[0]?.length ?? 0,
      embeddingsBase64: embeddingsToBase64(subject.embeddings),
    });
  }
  for (const negative of negatives) {
    items.set(`negative:${negative.subjectId}:${negative.hitId}`, {
      type: 'negative',
      subjectId: negative.subjectId,
      hitId: negative.hitId,
      embeddingBase64: embeddingsToBase64([negative.embedding]),
    });
  }
  return items;
}
