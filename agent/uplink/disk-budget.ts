// The outbox's disk budget: which waiting events give up space, and in what order. Evidence of
// non-hits goes first (oldest first), then whole non-hit events; hits are never touched, so a
// backlog of hits alone may exceed the budget. Storage itself is the outbox's job.

export interface DiskBudget {
  /** Cap on the payload bytes waiting in the outbox, evidence included. */
  maxBytes: number;
  /** Cap on the base64 evidence bytes inside those payloads. */
  evidenceMaxBytes: number;
}

export interface Eviction {
  /** 'evidence': images removed and the events kept; 'event': whole events deleted unsent. */
  kind: 'evidence' | 'event';
  /** The cap that was exceeded. */
  cap: 'outbox' | 'evidence';
  seqs: number[];
  bytesFreed: number;
  /** Totals after this pass. */
  payloadBytes: number;
  evidenceBytes: number;
}

export interface BudgetRow {
  seq: number;
  payload: Buffer;
  evidence_bytes: number;
}

/** The outbox operations the policy uses; every call runs inside the caller's transaction. */
export interface BudgetStore {
  totals(): { payloadBytes: number; evidenceBytes: number };
  /** Oldest non-hit rows that still carry evidence. */
  oldestWithEvidence(limit: number): BudgetRow[];
  /** Oldest non-hit rows. */
  oldestEvents(limit: number): BudgetRow[];
  /** Removes a row's evidence and returns the bytes freed. */
  stripEvidence(row: BudgetRow): number;
  deleteEvent(row: BudgetRow): void;
}

/** Rows examined per query; small batches keep each pass short. */
const BATCH_ROWS = 32;

/** Evicts until both caps hold or only hits remain; returns one record per kind of eviction done. */
export function enforceDiskBudget(budget: DiskBudget, store: BudgetStore): Eviction[] {
  const evictions: Eviction[] = [];
  const evidence = evictEvidence(budget, store);
  if (evidence !== null) evictions.push(evidence);
  const events = evictEvents(budget, store);
  if (events !== null) evictions.push(events);
  return evictions;
}

function overCap(budget: DiskBudget, store: BudgetStore): 'outbox' | 'evidence' | null {
  const totals = store.totals();
  if (totals.evidenceBytes > budget.evidenceMaxBytes) return 'evidence';
  if (totals.payloadBytes > budget.maxBytes) return 'outbox';
  return null;
}

function evictEvidence(budget: DiskBudget, store: BudgetStore): Eviction | null {
  const firstCap = overCap(budget, store);
  if (firstCap === null) return null;
  const seqs: number[] = [];
  let bytesFreed = 0;
  while (overCap(budget, store) !== null) {
    const rows = store.oldestWithEvidence(BATCH_ROWS);
    if (rows.length === 0) break;
    for (const row of rows) {
      bytesFreed += store.stripEvidence(row);
      seqs.push(row.seq);
      if (overCap(budget, store) === null) break;
    }
  }
  return seqs.length === 0 ? null : { kind: 'evidence', cap: firstCap, seqs, bytesFreed, ...store.totals() };
}

function evictEvents(budget: DiskBudget, store: BudgetStore): Eviction | null {
  if (store.totals().payloadBytes <= budget.maxBytes) return null;
  const seqs: number[] = [];
  const before = store.totals().payloadBytes;
  while (store.totals().payloadBytes > budget.maxBytes) {
    const rows = store.oldestEvents(BATCH_ROWS);
    if (rows.length === 0) break;
    for (const row of rows) {
      store.deleteEvent(row);
      seqs.push(row.seq);
      if (store.totals().payloadBytes <= budget.maxBytes) break;
    }
  }
  const totals = store.totals();
  return seqs.length === 0 ? null : { kind: 'event', cap: 'outbox', seqs, bytesFreed: before - totals.payloadBytes, ...totals };
}
