// Slows password guessing: after a number of failed logins for one user name within a window,
// further attempts for that name are rejected until the window has passed.

export const DEFAULT_MAX_FAILURES = 5;
export const DEFAULT_LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
/** Names tracked at most; beyond it, names without a recent failure are dropped, so guessing many names cannot grow memory without bound. */
const MAX_TRACKED_NAMES = 10_000;

export class LoginThrottle {
  /** Failure times in ms by lower-cased user name. */
  private readonly failuresByName = new Map<string, number[]>();

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly maxFailures = DEFAULT_MAX_FAILURES,
    private readonly windowMs = DEFAULT_LOCKOUT_WINDOW_MS,
  ) {}

  /** Returns how long in ms the name stays locked, or 0 when a login attempt is allowed. */
  lockedForMs(username: string): number {
    const recent = this.recentFailures(username);
    if (recent.length < this.maxFailures) return 0;
    return recent[recent.length - this.maxFailures]! + this.windowMs - this.clock();
  }

  recordFailure(username: string): void {
    const recent = this.recentFailures(username);
    recent.push(this.clock());
    if (this.failuresByName.size >= MAX_TRACKED_NAMES) this.dropStaleNames();
    this.failuresByName.set(username.toLowerCase(), recent.slice(-this.maxFailures));
  }

  recordSuccess(username: string): void {
    this.failuresByName.delete(username.toLowerCase());
  }

  private dropStaleNames(): void {
    const sinceMs = this.clock() - this.windowMs;
    for (const [name, failures] of this.failuresByName) {
      if (failures.every((atMs) => atMs <= sinceMs)) this.failuresByName.delete(name);
    }
  }

  private recentFailures(username: string): number[] {
    const sinceMs = this.clock() - this.windowMs;
    return (this.failuresByName.get(username.toLowerCase()) ?? []).filter((atMs) => atMs > sinceMs);
  }
}
