// HTTP download of one asset as a stream of chunks, with an idle timeout and a total timeout.
// Checking and storing the bytes is left to verified-file.ts.
import { DownloadError } from './errors.js';

export type FetchImpl = typeof fetch;

export interface DownloadOptions {
  /** Manifest name of the file, used in error messages. */
  file: string;
  url: string;
  fetchImpl: FetchImpl;
  /** Maximum time without receiving any byte, including the wait for the response headers. */
  idleTimeoutMs: number;
  /** Maximum time for the whole download. */
  totalTimeoutMs: number;
}

const HINT = 'Check the network and the url of this entry in the manifest, or install from a local folder.';

// Joins the messages of an error and its causes, e.g. "fetch failed (connect ECONNREFUSED 127.0.0.1:9)".
function describeCause(error: unknown): string {
  const messages: string[] = [];
  for (let current: unknown = error; current instanceof Error && messages.length < 4; current = current.cause) {
    if (!messages.includes(current.message)) messages.push(current.message);
  }
  if (messages.length === 0) return String(error);
  const [first, ...causes] = messages;
  return causes.length > 0 ? `${first} (${causes.join(': ')})` : (first ?? '');
}

/**
 * Yields the response body of `options.url` chunk by chunk. Throws DownloadError with code
 * DOWNLOAD_FAILED on an HTTP error status, a network error or a connection closed midway, and
 * DOWNLOAD_TIMEOUT when a timeout fires. Ending the iteration early aborts the request.
 */
export async function* downloadChunks(options: DownloadOptions): AsyncGenerator<Uint8Array> {
  const { file, url } = options;
  const controller = new AbortController();
  let timeoutReason: string | null = null;
  const abortAfter = (delayMs: number, reason: string): NodeJS.Timeout =>
    setTimeout(() => {
      timeoutReason = reason;
      controller.abort();
    }, delayMs);

  const totalTimer = abortAfter(options.totalTimeoutMs, `the download took longer than ${options.totalTimeoutMs} ms`);
  let idleTimer = abortAfter(options.idleTimeoutMs, `no data arrived for ${options.idleTimeoutMs} ms`);
  const toError = (error: unknown): DownloadError =>
    timeoutReason !== null
      ? new DownloadError('DOWNLOAD_TIMEOUT', file, url, null, `${file}: download timed out: ${timeoutReason}. ${HINT}`, { cause: error })
      : new DownloadError('DOWNLOAD_FAILED', file, url, null, `${file}: download failed: ${describeCause(error)}. ${HINT}`, { cause: error });

  try {
    const response = await options.fetchImpl(url, { signal: controller.signal, redirect: 'follow' }).catch((error: unknown) => {
      throw toError(error);
    });
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      const statusText = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      throw new DownloadError('DOWNLOAD_FAILED', file, url, response.status, `${file}: download failed: ${statusText}. ${HINT}`);
    }

    const reader = response.body.getReader();
    let receivedBytes = 0;
    for (;;) {
      const next = await reader.read().catch((error: unknown) => {
        throw toError(new Error(`connection lost after ${receivedBytes} bytes`, { cause: error }));
      });
      if (next.done) return;
      receivedBytes += next.value.byteLength;
      clearTimeout(idleTimer);
      idleTimer = abortAfter(options.idleTimeoutMs, `no data arrived for ${options.idleTimeoutMs} ms`);
      yield next.value;
    }
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(idleTimer);
    controller.abort();
  }
}
