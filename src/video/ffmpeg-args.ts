// Builds ffmpeg command lines: the camera reader (decode, select frames, scale to raw RGB on
// stdout) and the test-clip encoder (H.264 without B-frames). Spawning is left to the callers.
import path from 'node:path';
import { redactCredentials } from '../common/log.js';
import { VideoError } from './errors.js';

export interface RtspSource {
  kind: 'rtsp';
  url: string;
  /** Socket I/O timeout in ms: ffmpeg exits when a connect or read blocks longer. Default 10000. */
  ioTimeoutMs?: number;
}

export interface FileSource {
  kind: 'file';
  path: string;
  /** Read at the native frame rate (`-re`) instead of as fast as possible. */
  realtime: boolean;
  /** Restart from the beginning at the end of the file. */
  loop: boolean;
  /** Frame rate of a raw .h264/.264 file, which carries no timing. Required for those. */
  inputFps?: number;
}

/** Annex-B H.264 written to ffmpeg's stdin by the caller. */
export interface StdinSource {
  kind: 'stdin';
  format: 'h264';
  inputFps: number;
}

export type ReaderSource = RtspSource | FileSource | StdinSource;

export interface ReaderArgsOptions {
  source: ReaderSource;
  /** Maximum output frame rate. Frames are selected from the source and never duplicated. */
  fps: number;
  width: number;
  height: number;
  /** Decoder options placed before `-i`, such as `['-hwaccel', 'vaapi']`. */
  hwaccelArgs?: readonly string[];
}

export type ClipContainer = 'h264' | 'mp4';

export interface ClipEncodeOptions {
  /** Input options up to and including `-i PATH`. */
  inputArgs: readonly string[];
  /** Filter chain that produces frames of the final size and rate. */
  videoFilter: string;
  fps: number;
  maxFrames?: number;
  /** Output file. `.h264`/`.264` gives an Annex-B elementary stream and `.mp4` an MP4. */
  outPath: string;
}

const DEFAULT_RTSP_IO_TIMEOUT_MS = 10_000;
const MAX_FRAME_SIDE_PX = 8192;
const MAX_FPS = 240;
/**
 * Slack on the selection interval in seconds. Timestamps that land slightly early because of
 * rounding (0.2 s at 90 kHz is not exact in floating point) or camera jitter still count as due.
 */
const SELECT_SLACK_SEC = 0.005;
const RAW_H264_EXTENSIONS = new Set(['.h264', '.264']);
const QUIET_ARGS = ['-hide_banner', '-nostdin', '-nostats'];
/** Passes of a looped raw H.264 file per ffmpeg run. ffmpeg keeps one file descriptor open per pass. */
const RAW_LOOP_REPEATS = 100;

/**
 * Builds the reader's arguments: decode the source, select at most `fps` frames per second,
 * scale to `width`x`height` and write packed RGB24 frames to stdout.
 * Throws VideoError INVALID_OPTIONS when an option is out of range.
 */
export function buildReaderArgs(options: ReaderArgsOptions): string[] {
  checkFps('fps', options.fps);
  checkFrameSide('width', options.width);
  checkFrameSide('height', options.height);

  return [
    ...QUIET_ARGS,
    '-loglevel', 'warning',
    // Frame-threaded decoding delays every frame by about one frame per extra thread.
    // `-fflags nobuffer` is left out on purpose: ffmpeg 5.1 then drops the packets it read while
    // probing, so decoding starts one keyframe interval later, with no gain afterwards.
    '-threads', '1',
    '-probesize', '32768',
    '-analyzeduration', '0',
    ...(options.hwaccelArgs ?? []),
    ...buildInputArgs(options.source),
    '-an', '-sn', '-dn',
    // NOTE: scale stretches sources whose aspect ratio differs from width:height.
    '-vf', `${buildSelectFilter(options.fps)},scale=${options.width}:${options.height}`,
    // Keep the selected frames' own timing: no duplicates, no waiting for a later frame.
    '-fps_mode', 'passthrough',
    // ffmpeg 5.1 runs the rawvideo encoder frame-threaded by default, which delays each frame
    // until the next one is selected (one output interval, 200 ms at 5 fps).
    '-threads', '1',
    '-f', 'rawvideo',
    '-pix_fmt', 'rgb24',
    'pipe:1',
  ];
}

/**
 * Returns a `select` filter that passes a frame as soon as at least 1/fps seconds have passed
 * since the last selected one. Unlike `fps=N`, it never waits for a later frame to decide.
 * A timestamp that goes backwards (a camera that restarts its clock) is selected at once.
 */
export function buildSelectFilter(fps: number): string {
  checkFps('fps', fps);
  const minIntervalSec = Math.max(0, 1 / fps - SELECT_SLACK_SEC).toFixed(6);
  return (
    "select='isnan(prev_selected_t)" +
    `+gte(t-prev_selected_t,${minIntervalSec})` +
    "+lt(t,prev_selected_t)'"
  );
}

/** Returns the container that an output path's extension selects, or throws INVALID_OPTIONS. */
export function clipContainerOf(outPath: string): ClipContainer {
  const extension = path.extname(outPath).toLowerCase();
  if (RAW_H264_EXTENSIONS.has(extension)) return 'h264';
  if (extension === '.mp4') return 'mp4';
  throw new VideoError(
    'INVALID_OPTIONS',
    `clip path ${outPath} should end in .h264, .264 or .mp4, instead got "${extension}"`,
  );
}

/** Returns whether a path names a raw H.264 elementary stream (by its extension). */
export function isRawH264Path(filePath: string): boolean {
  return RAW_H264_EXTENSIONS.has(path.extname(filePath).toLowerCase());
}

/**
 * Builds arguments that encode a test clip as H.264 (main profile, yuv420p, no audio) without
 * B-frames and with a keyframe every second. Without B-frames decode order equals display order,
 * which the RTSP server relies on when it sets PTS from DTS.
 */
export function buildClipEncodeArgs(options: ClipEncodeOptions): string[] {
  checkFps('fps', options.fps);
  const container = clipContainerOf(options.outPath);
  const gopFrames = String(Math.max(1, Math.round(options.fps)));
  if (options.maxFrames !== undefined && !(Number.isInteger(options.maxFrames) && options.maxFrames > 0)) {
    throw new VideoError('INVALID_OPTIONS', `maxFrames should be a positive integer, instead got ${options.maxFrames}`);
  }

  return [
    ...QUIET_ARGS,
    '-loglevel', 'error',
    '-y',
    ...options.inputArgs,
    '-an', '-sn', '-dn',
    '-vf', `${options.videoFilter},format=yuv420p`,
    ...(options.maxFrames === undefined ? [] : ['-frames:v', String(options.maxFrames)]),
    '-c:v', 'libx264',
    '-preset', 'veryfast',
    '-profile:v', 'main',
    '-bf', '0',
    '-g', gopFrames,
    '-keyint_min', gopFrames,
    '-sc_threshold', '0',
    ...(container === 'mp4' ? ['-movflags', '+faststart', '-f', 'mp4'] : ['-f', 'h264']),
    fileUrl(options.outPath),
  ];
}

/** Prefixes `file:` so that a path containing a colon is never taken for a protocol. */
export function fileUrl(filePath: string): string {
  return `file:${path.resolve(filePath)}`;
}

function buildInputArgs(source: ReaderSource): string[] {
  switch (source.kind) {
    case 'rtsp':
      return buildRtspInputArgs(source);
    case 'file':
      return buildFileInputArgs(source);
    case 'stdin':
      checkFps('source.inputFps', source.inputFps);
      return ['-f', 'h264', '-framerate', String(source.inputFps), '-i', 'pipe:0'];
  }
}

function buildRtspInputArgs(source: RtspSource): string[] {
  if (!/^rtsps?:\/\//i.test(source.url)) {
    throw new VideoError(
      'INVALID_OPTIONS',
      `source.url should start with rtsp:// or rtsps://, instead got "${redactCredentials(source.url)}"`,
    );
  }
  const ioTimeoutMs = source.ioTimeoutMs ?? DEFAULT_RTSP_IO_TIMEOUT_MS;
  if (!(Number.isInteger(ioTimeoutMs) && ioTimeoutMs > 0)) {
    throw new VideoError('INVALID_OPTIONS', `source.ioTimeoutMs should be a positive integer, instead got ${ioTimeoutMs}`);
  }
  return ['-rtsp_transport', 'tcp', '-timeout', String(ioTimeoutMs * 1000), '-i', source.url];
}

function buildFileInputArgs(source: FileSource): string[] {
  const raw = isRawH264Path(source.path);
  if (raw) checkFps('source.inputFps', source.inputFps);
  const loopArgs = source.loop && !raw ? ['-stream_loop', '-1'] : [];

  return [
    ...(source.realtime ? ['-re'] : []),
    ...loopArgs,
    ...(raw ? ['-f', 'h264', '-framerate', String(source.inputFps)] : []),
    '-i', raw && source.loop ? buildRawLoopUrl(source.path) : fileUrl(source.path),
  ];
}

/**
 * Returns a `concat:` URL that repeats a raw H.264 file, because ffmpeg 5.1 cannot seek back in
 * an elementary stream and `-stream_loop` fails there. The H.264 parser reads one continuous
 * stream, so timestamps keep rising across the joins.
 * NOTE: the loop is finite (RAW_LOOP_REPEATS passes, since ffmpeg opens every part at start).
 * ffmpeg then exits with code 0 and the reader restarts it like after any other exit.
 */
function buildRawLoopUrl(filePath: string): string {
  if (filePath.includes('|')) {
    throw new VideoError(
      'INVALID_OPTIONS',
      `cannot loop ${filePath}: the path contains "|", which ffmpeg's concat protocol uses as separator. Rename the file.`,
    );
  }
  return `concat:${Array(RAW_LOOP_REPEATS).fill(fileUrl(filePath)).join('|')}`;
}

function checkFps(field: string, fps: number | undefined): asserts fps is number {
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > MAX_FPS) {
    throw new VideoError('INVALID_OPTIONS', `${field} should be a number in (0, ${MAX_FPS}], instead got ${fps}`);
  }
}

function checkFrameSide(field: string, pixels: number): void {
  if (!Number.isInteger(pixels) || pixels < 2 || pixels > MAX_FRAME_SIDE_PX) {
    throw new VideoError(
      'INVALID_OPTIONS',
      `${field} should be an integer from 2 to ${MAX_FRAME_SIDE_PX} px, instead got ${pixels}`,
    );
  }
}
