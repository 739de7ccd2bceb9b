// Operator decisions on hits: confirm or dismiss with a reason, written to the audit log, and for a
// dismissed face hit the face kept as a negative of the subject so it is not raised again.
import type { Logger } from '../common/log.js';
import type { ListManager } from './lists/list-manager.js';
import { StoreError, type CentralStore, type FaceNegative, type HitDecisionKind, type StoredHit } from './store/store.js';

export class DecisionError extends Error {
  override readonly name = 'DecisionError';
  constructor(
    readonly code: 'DECISION_REASON_MISSING',
    message: string,
  ) {
    super(message);
  }
}

export interface DecisionDeps {
  store: CentralStore;
  lists: ListManager;
  logger: Logger;
  clock: () => number;
}

/**
 * Records a decision on an open hit and audits it. Rejects with DecisionError when the reason is
 * empty, and with StoreError STORE_HIT_NOT_FOUND or STORE_HIT_ALREADY_DECIDED.
 */
export async function decideHit(deps: DecisionDeps, hitId: string, decision: HitDecisionKind, by: string, reason: string): Promise<StoredHit> {
  const trimmedReason = reason.trim();
  if (trimmedReason === '') throw new DecisionError('DECISION_REASON_MISSING', `a ${decision} decision needs a reason for the audit log; give one`);
  const hit = await deps.store.getHit(hitId);
  if (hit === null) throw new StoreError('STORE_HIT_NOT_FOUND', `hit ${hitId} not found; it may have been removed by retention`);

  const atMs = deps.clock();
  const faceNegative = decision === 'dismissed' ? await negativeFor(deps.store, hit, atMs) : undefined;
  const decided = await deps.store.decideHit({ hitId, decision, reason: trimmedReason, decidedBy: by, decidedAtMs: atMs, faceNegative });
  await deps.store.appendAudit({
    atMs,
    actor: by,
    action: decision === 'confirmed' ? 'hit.confirm' : 'hit.dismiss',
    target: hitId,
    reason: trimmedReason,
    details: { kind: hit.kind, carId: hit.carId, seq: hit.seq, negativeKept: faceNegative !== undefined },
  });
  deps.logger.info({ hitId, kind: hit.kind, decision, by, negativeKept: faceNegative !== undefined }, 'hit decided');

  // The negative changes the watchlist: reload the face index now instead of at the next poll.
  if (faceNegative !== undefined) await deps.lists.refresh();
  return decided;
}

/** Builds the negative of a face hit: its face, from the stored event, for the matched subject. */
async function negativeFor(store: CentralStore, hit: StoredHit, atMs: number): Promise<FaceNegative | undefined> {
  if (hit.kind !== 'face' || hit.matched.subjectId === undefined) return undefined;
  const event = await store.getEvent(hit.carId, hit.seq);
  // NOTE: when retention already removed the face sighting, the dismissal is recorded without a negative.
  if (event === null || event.kind !== 'face') return undefined;
  return { subjectId: hit.matched.subjectId, hitId: hit.hitId, embedding: Float32Array.from(event.face.embedding), atMs };
}
