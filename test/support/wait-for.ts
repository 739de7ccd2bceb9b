// Polling wait for tests that watch state changed by another connection or process.

/** Resolves once `condition` returns true; rejects with `what` in the message after timeoutMs. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
