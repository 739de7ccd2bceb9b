// Typed errors of the asset installer. Each has a stable `code` and a message that names the file,
// what failed and what to do next. Messages leave out URLs, which can contain upstream file names
// of people; the manifest `file` identifies the entry.
import type { InstallReport } from './install.js';

export type AssetErrorCode = 'CHECKSUM_MISMATCH' | 'DOWNLOAD_FAILED' | 'DOWNLOAD_TIMEOUT' | 'SOURCE_NOT_FOUND' | 'IO_FAILED';

export class AssetError extends Error {
  override readonly name: string = 'AssetError';

  constructor(
    readonly code: AssetErrorCode,
    /** Manifest `file` of the entry, relative to the destination folder. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ChecksumFacts {
  file: string;
  expectedSha256: string;
  expectedBytes: number;
  /** Null when the transfer stopped early because it exceeded the expected size. */
  actualSha256: string | null;
  actualBytes: number;
  /** Source of the bytes, for the message: "download" or "source folder DIR". */
  origin: string;
}

/** Content that does not match the manifest's sha256 or size; the partial file is already deleted. */
export class ChecksumMismatchError extends AssetError {
  override readonly name = 'ChecksumMismatchError';
  readonly expectedSha256: string;
  readonly actualSha256: string | null;
  readonly expectedBytes: number;
  readonly actualBytes: number;

  constructor(facts: ChecksumFacts) {
    const actual =
      facts.actualSha256 === null
        ? `more than ${facts.expectedBytes} bytes (stopped at ${facts.actualBytes})`
        : `sha256 ${facts.actualSha256} (${facts.actualBytes} bytes)`;
    super(
      'CHECKSUM_MISMATCH',
      facts.file,
      `${facts.file}: checksum mismatch from ${facts.origin}: expected sha256 ${facts.expectedSha256} ` +
        `(${facts.expectedBytes} bytes), got ${actual}. The file was not installed. ` +
        (facts.origin === 'download'
          ? 'Retry the download. If the mismatch repeats, the upstream file changed: check its url and sha256 in the manifest.'
          : 'The local copy differs from the verified file: replace it with a good copy, or install by download.'),
    );
    this.expectedSha256 = facts.expectedSha256;
    this.actualSha256 = facts.actualSha256;
    this.expectedBytes = facts.expectedBytes;
    this.actualBytes = facts.actualBytes;
  }
}

/** An HTTP error status, a network failure, a dropped connection or a download timeout. */
export class DownloadError extends AssetError {
  override readonly name = 'DownloadError';

  constructor(
    code: 'DOWNLOAD_FAILED' | 'DOWNLOAD_TIMEOUT',
    file: string,
    readonly url: string,
    /** HTTP status when the server responded with an error, else null. */
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, file, message, options);
  }
}

/** Summary of a failed installation: `errors` has one AssetError per failed entry, `report` all results. */
export class AssetInstallError extends AggregateError {
  override readonly name = 'AssetInstallError';
  readonly code = 'ASSET_INSTALL_FAILED';

  constructor(
    override readonly errors: AssetError[],
    readonly report: InstallReport,
  ) {
    const lines = errors.map((error) => `  - ${error.message}`).join('\n');
    super(errors, `${errors.length} asset(s) failed to install:\n${lines}`);
  }
}
