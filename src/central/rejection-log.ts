// Rate-limited log lines for rejected event messages, so a misbehaving car cannot flood the log.
// Counting every rejection is the metrics' job; this only decides which ones get a log line.
import type { Logger } from '../common/log.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class RejectionLog {
  private readonly lastLineAtMs = new Map<string, number>();
  private readonly suppressedByCode = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  /**
   * Logs a rejection at warn level, at most once per code per interval. The next line carries the
   * number suppressed since. Pass parseEvent's rejection message, which names fields but not their values.
   */
  record(code: string, topicCarId: string | null, message: string): void {
    const nowMs = this.clock();
    const lastMs = this.lastLineAtMs.get(code);
    if (lastMs !== undefined && nowMs - lastMs < this.intervalMs) {
      this.suppressedByCode.set(code, (this.suppressedByCode.get(code) ?? 0) + 1);
      return;
    }

    const suppressed = this.suppressedByCode.get(code) ?? 0;
    this.suppressedByCode.set(code, 0);
    this.lastLineAtMs.set(code, nowMs);
    this.logger.warn({ code, carId: safeCarId(topicCarId), reason: message, suppressed }, 'event rejected');
  }
}

/** Returns the topic's car id when it has the shape of an id, otherwise a placeholder, because topics are untrusted input. */
function safeCarId(topicCarId: string | null): string {
  if (topicCarId === null) return '(none)';
  return ID_PATTERN.test(topicCarId) ? topicCarId : '(invalid)';
}
