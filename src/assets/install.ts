// Installs the files of a manifest into a destination folder, from a local folder or by download,
// and checks installed files. Downloading is in download.ts, checked writing in verified-file.ts.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createLogger, type Logger } from '../common/log.js';
import { downloadChunks, type FetchImpl } from './download.js';
import { AssetError, AssetInstallError } from './errors.js';
import type { AssetEntry } from './manifest.js';
import { fileMatches, removeStalePartials, sha256OfFile, writeVerifiedFile } from './verified-file.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
// The largest model is about 4 MB, so 10 minutes still allows a link of about 7 kB/s.
export const DEFAULT_TOTAL_TIMEOUT_MS = 600_000;

export type InstallSource = 'download' | 'copy';

export type InstallResult =
  | { file: string; status: 'installed'; source: InstallSource; bytes: number; durationMs: number }
  | { file: string; status: 'present'; bytes: number }
  | { file: string; status: 'failed'; source: InstallSource; reason: string; error: AssetError };

export interface InstallReport {
  destDir: string;
  results: InstallResult[];
  installed: number;
  present: number;
  failed: number;
}

export interface InstallOptions {
  manifest: { readonly entries: readonly AssetEntry[] };
  destDir: string;
  /** Local folder that contains the files under their manifest names. When set, nothing is downloaded. */
  sourceDir?: string;
  fetchImpl?: FetchImpl;
  logger?: Logger;
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Called once per entry as soon as its result is known, e.g. to print progress. */
  onResult?: (result: InstallResult) => void;
}

/** Returns the absolute path of a manifest entry inside `rootDir`. */
export function entryPath(rootDir: string, file: string): string {
  return path.resolve(rootDir, ...file.split('/'));
}

function toAssetError(error: unknown, file: string): AssetError {
  if (error instanceof AssetError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AssetError('IO_FAILED', file, `${file}: install failed: ${message}. Check that the source is readable and the destination folder is writable and has space.`, {
    cause: error,
  });
}

async function openCopySource(entry: AssetEntry, sourceDir: string): Promise<AsyncIterable<Uint8Array>> {
  const sourcePath = entryPath(sourceDir, entry.file);
  const info = await stat(sourcePath).catch(() => null);
  if (!info?.isFile()) {
    throw new AssetError(
      'SOURCE_NOT_FOUND',
      entry.file,
      `${entry.file}: not found in source folder ${sourceDir}. Put the file there, or leave out the source folder to download it.`,
    );
  }
  return createReadStream(sourcePath);
}

function openSource(entry: AssetEntry, options: InstallOptions): Promise<AsyncIterable<Uint8Array>> | AsyncIterable<Uint8Array> {
  if (options.sourceDir !== undefined) return openCopySource(entry, options.sourceDir);
  return downloadChunks({
    file: entry.file,
    url: entry.url,
    fetchImpl: options.fetchImpl ?? fetch,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    totalTimeoutMs: options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
  });
}

async function installEntry(entry: AssetEntry, options: InstallOptions, logger: Logger): Promise<InstallResult> {
  const destPath = entryPath(options.destDir, entry.file);
  const source: InstallSource = options.sourceDir === undefined ? 'download' : 'copy';

  if (await fileMatches(destPath, entry)) {
    logger.info({ file: entry.file }, 'asset already present');
    return { file: entry.file, status: 'present', bytes: entry.bytes };
  }

  const startedMs = Date.now();
  try {
    await removeStalePartials(destPath);
    const chunks = await openSource(entry, options);
    const origin = source === 'copy' ? `source folder ${options.sourceDir}` : 'download';
    await writeVerifiedFile(chunks, destPath, entry, origin);
  } catch (caught) {
    const error = toAssetError(caught, entry.file);
    logger.error({ file: entry.file, source, code: error.code, err: error.message }, 'asset install failed');
    return { file: entry.file, status: 'failed', source, reason: error.message, error };
  }

  const durationMs = Date.now() - startedMs;
  logger.info({ file: entry.file, source, bytes: entry.bytes, durationMs }, 'asset installed');
  return { file: entry.file, status: 'installed', source, bytes: entry.bytes, durationMs };
}

/**
 * Installs every entry of the manifest into `destDir`, skipping files that already match. Entries
 * are processed one at a time and a failure does not stop the others. Resolves with the report when
 * all succeeded, else throws AssetInstallError listing every failure, with the report attached.
 */
export async function installAssets(options: InstallOptions): Promise<InstallReport> {
  const logger = options.logger ?? createLogger('assets');
  const results: InstallResult[] = [];
  for (const entry of options.manifest.entries) {
    const result = await installEntry(entry, options, logger);
    results.push(result);
    options.onResult?.(result);
  }

  const report: InstallReport = {
    destDir: options.destDir,
    results,
    installed: results.filter((result) => result.status === 'installed').length,
    present: results.filter((result) => result.status === 'present').length,
    failed: results.filter((result) => result.status === 'failed').length,
  };
  const errors = results.flatMap((result) => (result.status === 'failed' ? [result.error] : []));
  if (errors.length > 0) throw new AssetInstallError(errors, report);
  return report;
}

export type VerifyResult =
  | { file: string; status: 'ok'; bytes: number }
  | { file: string; status: 'missing' }
  | { file: string; status: 'mismatch'; expectedSha256: string; actualSha256: string; expectedBytes: number; actualBytes: number };

/** Checks each entry's file in `destDir` against the manifest without changing anything. */
export async function verifyAssets(options: {
  manifest: { readonly entries: readonly AssetEntry[] };
  destDir: string;
}): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const entry of options.manifest.entries) {
    const filePath = entryPath(options.destDir, entry.file);
    const info = await stat(filePath).catch(() => null);
    if (!info?.isFile()) {
      results.push({ file: entry.file, status: 'missing' });
      continue;
    }
    const actualSha256 = await sha256OfFile(filePath);
    if (actualSha256 === entry.sha256 && info.size === entry.bytes) {
      results.push({ file: entry.file, status: 'ok', bytes: entry.bytes });
    } else {
      results.push({
        file: entry.file,
        status: 'mismatch',
        expectedSha256: entry.sha256,
        actualSha256,
        expectedBytes: entry.bytes,
        actualBytes: info.size,
      });
    }
  }
  return results;
}
