// The error of a rejected hotlist or watchlist message, with a stable code per cause.

export type ListErrorCode =
  | 'LIST_NOT_JSON'
  | 'LIST_INVALID'
  | 'LIST_UNSIGNED'
  | 'LIST_UNKNOWN_KEY'
  | 'LIST_BAD_SIGNATURE'
  | 'LIST_WRONG_TOPIC'
  | 'LIST_STALE'
  | 'LIST_BASE_MISMATCH'
  | 'LIST_KEY_INVALID'
  | 'LIST_STORE_FAILED';

export class ListError extends Error {
  override readonly name = 'ListError';
  constructor(
    readonly code: ListErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
