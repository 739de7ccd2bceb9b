// The retention purge job: turns the configured days per kind of data into cutoffs, runs the store's
// purge on an interval, and records each run in the metrics, the log and the audit log.
import type { Logger } from '../common/log.js';
import type { CentralConfig } from './config.js';
import type { CentralMetrics } from './metrics.js';
import type { CentralStore, PurgeCounts, RetentionCutoffs } from './store/store.js';

const DAY_MS = 24 * 3600 * 1000;

export type RetentionConfig = CentralConfig['retention'];

/** Cutoffs at nowMs: data older than its kind's number of days goes; null days keep it. */
export function retentionCutoffs(retention: RetentionConfig, nowMs: number): RetentionCutoffs {
  const before = (days: number | null): number | null => (days === null ? null : nowMs - days * DAY_MS);
  return {
    hitsBeforeMs: before(retention.hitsDays),
    plateReadsBeforeMs: before(retention.plateReadsDays),
    faceSightingsBeforeMs: before(retention.faceSightingsDays),
    objectEventsBeforeMs: before(retention.objectEventsDays),
    evidenceBeforeMs: before(retention.evidenceDays),
    auditBeforeMs: before(retention.auditDays),
  };
}

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PurgeCounts | null> | null = null;

  constructor(
    private readonly deps: { store: CentralStore; retention: RetentionConfig; metrics: CentralMetrics; logger: Logger; clock: () => number },
  ) {}

  /** Runs a purge now and then every purgeIntervalMs. */
  start(): void {
    this.stop();
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.deps.retention.purgeIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a purge in progress. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs one purge unless one is in progress; resolves to the counts, or null when it failed (it is logged). */
  runOnce(): Promise<PurgeCounts | null> {
    this.running ??= this.purge().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async purge(): Promise<PurgeCounts | null> {
    const nowMs = this.deps.clock();
    let counts: PurgeCounts;
    try {
      counts = await this.deps.store.purge(retentionCutoffs(this.deps.retention, nowMs));
    } catch (error) {
      this.deps.metrics.purgeFailures.inc();
      this.deps.logger.error({ err: error }, 'retention purge failed; retrying at the next interval');
      return null;
    }
    for (const [data, rows] of Object.entries(counts)) this.deps.metrics.purgedRows.inc({ data }, rows);

    const total = Object.values(counts).reduce((sum, rows) => sum + rows, 0);
    if (total > 0) {
      this.deps.logger.info({ ...counts }, 'retention purge removed old data');
      await this.deps.store.appendAudit({ atMs: nowMs, actor: 'system', action: 'retention.purge', target: null, reason: 'retention policy', details: { ...counts } });
    }
    return counts;
  }
}
