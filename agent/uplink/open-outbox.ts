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
  const file = path.join(config.dataDir, 'outbox.sqlite');
  const outbox = new Outbox(file, {
    budget: diskBudgetOf(config),
    onEviction: (eviction) => recordEviction(eviction, logger, metrics),
    // NOTE: a car clock set far back when the file is created (an RTC that lost power) could restart
    // the numbers below ones already stored. The central service then detects the conflict by
    // content and the car quarantines those events instead of losing them.
    firstSeq: Date.now(),
  });
  const stats = outbox.stats();
  logger.info({ file, depth: stats.depth, lastSeq: stats.lastSeq }, 'outbox opened');
  return outbox;
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
