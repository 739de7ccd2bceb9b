// Rate-limited log lines for rejected event messages, so a misbehaving car cannot flood the log.
// Counting every rejection is the metrics' job; this only decides which ones get a log line.
import type { Logger } from '../common/log.js';
import { LogThrottle } from '../common/log-throttle.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class RejectionLog {
  private readonly throttle: LogThrottle;

  constructor(
    private readonly logger: Logger,
    clock: () => number,
    intervalMs = 10_000,
  ) {
    this.throttle = new LogThrottle(intervalMs, clock);
  }

  /**
   * Logs a rejection at warn level, at most once per code per interval. The next line carries the
   * number suppressed since. Pass parseEvent's rejection message, which names fields but not their values.
   */
  record(code: string, topicCarId: string | null, message: string): void {
    const sinceLastLine = this.throttle.take(code);
    if (sinceLastLine === null) return;
    // The line stands for this rejection; the others since the last line were suppressed.
    this.logger.warn({ code, carId: safeCarId(topicCarId), reason: message, suppressed: sinceLastLine - 1 }, 'event rejected');
  }
}

/** Returns the topic's car id when it has the shape of an id, otherwise a placeholder, because topics are untrusted input. */
function safeCarId(topicCarId: string | null): string {
  if (topicCarId === null) return '(none)';
  return ID_PATTERN.test(topicCarId) ? topicCarId : '(invalid)';
}
