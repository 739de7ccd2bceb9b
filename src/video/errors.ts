// Typed errors of the video capture layer. Each carries a stable `code` that callers branch on,
// and a message that names the value that was wrong and what to do about it.

export type VideoErrorCode =
  | 'INVALID_OPTIONS'
  | 'INPUT_NOT_FOUND'
  | 'FFMPEG_FAILED'
  | 'FFMPEG_TIMEOUT'
  | 'RTSP_UNAVAILABLE'
  | 'RTSP_START_FAILED'
  | 'RTSP_START_TIMEOUT';

export class VideoError extends Error {
  override readonly name = 'VideoError';

  constructor(
    readonly code: VideoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
