// Typed errors of the vision modules. Each carries a stable code that callers and tests match on.

export type VisionErrorCode =
  | 'MODEL_MISSING'
  | 'MODEL_CORRUPT'
  | 'FILE_NOT_FOUND'
  | 'IMAGE_INVALID'
  | 'VIDEO_INVALID';

export class VisionError extends Error {
  readonly code: VisionErrorCode;

  constructor(code: VisionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VisionError';
    this.code = code;
  }
}
