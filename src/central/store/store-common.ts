// Small pieces both store backends share: the plate text indexed for search, the repeat record of a
// folded match, and batched purging so retention never holds a long lock.
import type { PatrolEvent } from '../../protocol/event.js';
import { normalisePlateText } from '../../matching/hotlist.js';
import type { HitCandidate } from '../hit.js';
import type { HitRepeat } from './store.js';

/** Rows deleted or rewritten per statement by the purge job. */
export const PURGE_BATCH_ROWS = 5000;

export function plateTextOf(event: PatrolEvent): string | null {
  return event.kind === 'plate' ? normalisePlateText(event.plate.text) : null;
}

export function repeatOf(hitId: string, event: PatrolEvent, candidate: HitCandidate, repeatCount: number, seenAtMs: number): HitRepeat {
  return {
    hitId,
    kind: candidate.kind,
    carId: event.carId,
    cameraId: event.cameraId,
    seq: event.seq,
    score: candidate.score,
    repeatCount,
    lastSeenAtMs: seenAtMs,
  };
}

/**
 * Runs a batched purge statement until it changes fewer rows than a batch; returns the total.
 * `runBatch(beforeMs, batchRows)` returns the rows it changed. A null cutoff purges nothing.
 */
export async function purgeInBatches(cutoffMs: number | null, runBatch: (beforeMs: number, batchRows: number) => Promise<number>): Promise<number> {
  if (cutoffMs === null) return 0;
  let total = 0;
  for (;;) {
    const changed = await runBatch(cutoffMs, PURGE_BATCH_ROWS);
    total += changed;
    if (changed < PURGE_BATCH_ROWS) return total;
  }
}
