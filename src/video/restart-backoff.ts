// Restart delays for a supervised process: exponential growth with random jitter, a cap, and a
// reset once a run has been healthy. It only computes delays, and the caller owns the timers.

export interface RestartBackoffOptions {
  /** Delay before the first restart, in ms. Default 500. */
  initialDelayMs: number;
  /** Upper bound of any delay, in ms, jitter included. Default 30000. */
  maxDelayMs: number;
  /** Growth factor from one attempt to the next. Default 2. */
  multiplier: number;
  /** Each delay is scaled by a random factor in [1 - jitterRatio, 1 + jitterRatio]. Default 0.2. */
  jitterRatio: number;
  /** Source of randomness in [0, 1), injectable for tests. Default Math.random. */
  random: () => number;
}

export const DEFAULT_RESTART_BACKOFF: Readonly<RestartBackoffOptions> = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitterRatio: 0.2,
  random: Math.random,
});

export class RestartBackoff {
  private readonly options: RestartBackoffOptions;
  private attemptCount = 0;

  constructor(options: Partial<RestartBackoffOptions> = {}) {
    this.options = { ...DEFAULT_RESTART_BACKOFF, ...options };
    const { initialDelayMs, maxDelayMs, multiplier, jitterRatio } = this.options;
    if (!(initialDelayMs > 0 && maxDelayMs >= initialDelayMs)) {
      throw new RangeError(
        `backoff should have 0 < initialDelayMs <= maxDelayMs, instead got ${initialDelayMs} and ${maxDelayMs}`,
      );
    }
    if (!(multiplier >= 1)) throw new RangeError(`backoff multiplier should be >= 1, instead got ${multiplier}`);
    if (!(jitterRatio >= 0 && jitterRatio < 1)) {
      throw new RangeError(`backoff jitterRatio should be in [0, 1), instead got ${jitterRatio}`);
    }
  }

  /** Number of delays handed out since the last reset, so the next restart is attempt + 1. */
  get attempt(): number {
    return this.attemptCount;
  }

  /** Returns the delay before the next restart in ms and counts the attempt. */
  nextDelayMs(): number {
    const { initialDelayMs, maxDelayMs, multiplier, jitterRatio, random } = this.options;
    const baseMs = Math.min(maxDelayMs, initialDelayMs * multiplier ** this.attemptCount);
    const jitterFactor = 1 - jitterRatio + 2 * jitterRatio * random();
    this.attemptCount += 1;
    return Math.round(Math.min(maxDelayMs, baseMs * jitterFactor));
  }

  reset(): void {
    this.attemptCount = 0;
  }
}
