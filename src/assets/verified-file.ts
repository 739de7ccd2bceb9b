// Writes a file only when its content matches an expected sha256 and size. Bytes go to a hidden
// partial file beside the target, which is fsynced and renamed over the target only after the check,
// so a failed or interrupted transfer never replaces a good file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ChecksumMismatchError } from './errors.js';

export interface ExpectedContent {
  /** Manifest name of the file, used in error messages. */
  file: string;
  sha256: string;
  bytes: number;
}

const PARTIAL_MARKER = '.partial-';

/** Returns the partial file name for `destPath` and this process: `dir/.name.partial-<pid>`. */
export function partialPathFor(destPath: string, pid: number = process.pid): string {
  return path.join(path.dirname(destPath), `.${path.basename(destPath)}${PARTIAL_MARKER}${pid}`);
}

/** Computes the sha256 (hex) of a file by streaming it. */
export async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Returns true when `filePath` is a regular file with the expected size and sha256. */
export async function fileMatches(filePath: string, expected: ExpectedContent): Promise<boolean> {
  const info = await stat(filePath).catch(() => null);
  if (!info || !info.isFile() || info.size !== expected.bytes) return false;
  return (await sha256OfFile(filePath)) === expected.sha256;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes partial files of `destPath` left by installer processes that are no longer running. */
export async function removeStalePartials(destPath: string): Promise<void> {
  const prefix = `.${path.basename(destPath)}${PARTIAL_MARKER}`;
  const names = await readdir(path.dirname(destPath)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) {
      await rm(path.join(path.dirname(destPath), name), { force: true });
    }
  }
}

interface WrittenContent {
  sha256: string | null;
  bytes: number;
}

/**
 * Streams `source` into `partialPath` while hashing it, then fsyncs. Stops reading once more than
 * `maxBytes` arrived, and then returns a null sha256, so an oversized download is cut short.
 */
async function writeAndHash(source: AsyncIterable<Uint8Array>, partialPath: string, maxBytes: number): Promise<WrittenContent> {
  const hash = createHash('sha256');
  const handle = await open(partialPath, 'w');
  let bytes = 0;
  try {
    for await (const chunk of source) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) return { sha256: null, bytes };
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

// Makes the rename durable across a power cut, which matters on a car's computer.
async function fsyncDirectory(dirPath: string): Promise<void> {
  const handle = await open(dirPath, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `source` to `destPath` if and only if its content matches `expected`. Throws
 * ChecksumMismatchError on a wrong sha256 or size, and passes on errors of `source`. In both cases
 * the partial file is deleted and an existing file at `destPath` stays as it was.
 */
export async function writeVerifiedFile(
  source: AsyncIterable<Uint8Array>,
  destPath: string,
  expected: ExpectedContent,
  origin: string,
): Promise<void> {
  await mkdir(path.dirname(destPath), { recursive: true });
  const partialPath = partialPathFor(destPath);

  try {
    const written = await writeAndHash(source, partialPath, expected.bytes);
    if (written.sha256 !== expected.sha256 || written.bytes !== expected.bytes) {
      throw new ChecksumMismatchError({
        file: expected.file,
        expectedSha256: expected.sha256,
        expectedBytes: expected.bytes,
        actualSha256: written.sha256,
        actualBytes: written.bytes,
        origin,
      });
    }
    await rename(partialPath, destPath);
  } catch (error) {
    await rm(partialPath, { force: true });
    throw error;
  }

  await fsyncDirectory(path.dirname(destPath));
}
