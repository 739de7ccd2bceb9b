// Opens the agent's outbox in its data folder with the configured disk budget, and logs and counts
// every eviction the budget makes.
import path from 'node:path';
import type { Logger } from '../../src/common/log.js';
import { diskBudgetOf, type AgentConfig } from '../config.js';
import type { AgentMetrics } from '../metrics.js';
import { Outbox, type Eviction } from './outbox.js';

/** Sequence numbers listed in one eviction log line; the line always gives the full count. */
const LOGGED_SEQS = 50;

export function openOutbox(config: AgentConfig, logger: Logger, metrics: AgentMetrics): Outbox {
  return new Outbox(path.join(config.dataDir, 'outbox.sqlite'), {
    budget: diskBudgetOf(config),
    onEviction: (eviction) => recordEviction(eviction, logger, metrics),
  });
}

export function recordEviction(eviction: Eviction, logger: Logger, metrics: AgentMetrics): void {
  metrics.evictions.inc({ kind: eviction.kind, cap: eviction.cap }, eviction.seqs.length);
  metrics.evictedBytes.inc({ kind: eviction.kind }, eviction.bytesFreed);
  logger.warn(
    {
      kind: eviction.kind,
      cap: eviction.cap,
      count: eviction.seqs.length,
      seqs: eviction.seqs.slice(0, LOGGED_SEQS),
      bytesFreed: eviction.bytesFreed,
      outboxBytes: eviction.payloadBytes,
      evidenceBytes: eviction.evidenceBytes,
    },
    eviction.kind === 'evidence' ? 'outbox over its disk budget: evidence of non-hit events evicted' : 'outbox over its disk budget: non-hit events evicted unsent',
  );
}
