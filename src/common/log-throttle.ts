// Rate limit for log lines about repeated events (rejected messages, resends, invalid receipts), so a
// misbehaving peer cannot flood the log. Counting every event is the metrics' job.

export class LogThrottle {
  private readonly lastLineAtMs = new Map<string, number>();
  private readonly countSinceLine = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Counts `count` occurrences under `key`. Returns the occurrences since the last line, this one
   * included, when a line is due (the first one, or `intervalMs` after the last), and null otherwise.
   */
  take(key = '', count = 1): number | null {
    const total = (this.countSinceLine.get(key) ?? 0) + count;
    const nowMs = this.clock();
    const lastMs = this.lastLineAtMs.get(key);
    if (lastMs !== undefined && nowMs - lastMs < this.intervalMs) {
      this.countSinceLine.set(key, total);
      return null;
    }
    this.countSinceLine.set(key, 0);
    this.lastLineAtMs.set(key, nowMs);
    return total;
  }
}
