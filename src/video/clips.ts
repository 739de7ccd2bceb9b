// Makes H.264 test clips with ffmpeg: a slow zoom over a still photo (a car driving past a
// parked one) and cuts of existing videos. Serving and reading the clips is left to others.
import { access, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { VideoError } from './errors.js';
import { buildClipEncodeArgs, clipContainerOf, fileUrl } from './ffmpeg-args.js';
import { runFfmpeg, type RunFfmpegOptions } from './ffmpeg-run.js';

export interface DriveByClipOptions extends RunFfmpegOptions {
  seconds: number;
  width: number;
  height: number;
  fps: number;
  /**
   * Zoom at the end of the clip, where 1 shows the whole photo fitted into the frame. Default
   * 1.3, at most 2. The zoom grows linearly from 1, so the clip starts with the whole photo.
   */
  endZoom?: number;
  /** Point the zoom closes in on, as fractions of the frame's width and height. Default centre. */
  focus?: { x: number; y: number };
}

export interface TranscodeClipOptions extends RunFfmpegOptions {
  /** Length kept from the start of the input. Default: all of it. */
  seconds?: number;
  /** Output size. With both set, the video is fitted inside and padded. Default: the input size. */
  width?: number;
  height?: number;
  fps: number;
}

const MAX_CLIP_SECONDS = 600;
const MAX_END_ZOOM = 2;
/** zoompan crops at whole input pixels, so working at twice the output size halves the visible jitter. */
const ZOOM_SUPERSAMPLING = 2;

/**
 * Writes a clip that starts on the whole photo (letterboxed to width x height) and zooms in
 * slowly towards `focus`. At the default end zoom of 1.3 centred, 77% of the frame's width and
 * height stays in view, so a plate stays legible throughout unless it sits near an edge.
 * The output format follows the extension of `outPath` (.h264/.264 or .mp4).
 */
export async function makeDriveByClip(photoPath: string, outPath: string, options: DriveByClipOptions): Promise<void> {
  checkClipSize(options.width, options.height);
  checkSeconds('seconds', options.seconds);
  const endZoom = options.endZoom ?? 1.3;
  if (!(endZoom >= 1 && endZoom <= MAX_END_ZOOM)) {
    throw new VideoError('INVALID_OPTIONS', `endZoom should be in [1, ${MAX_END_ZOOM}], instead got ${endZoom}`);
  }
  const focus = options.focus ?? { x: 0.5, y: 0.5 };
  if (!(focus.x >= 0 && focus.x <= 1 && focus.y >= 0 && focus.y <= 1)) {
    throw new VideoError('INVALID_OPTIONS', `focus should have x and y in [0, 1], instead got ${JSON.stringify(focus)}`);
  }
  await checkInputExists(photoPath);

  const frameCount = Math.max(1, Math.round(options.seconds * options.fps));
  const videoFilter = buildDriveByFilter(options, endZoom, focus, frameCount);
  await encodeAtomically(outPath, options, (partialPath) =>
    buildClipEncodeArgs({
      inputArgs: ['-i', fileUrl(photoPath)],
      videoFilter,
      fps: options.fps,
      maxFrames: frameCount,
      outPath: partialPath,
    }),
  );
}

/** Writes a cut of a video: the first `seconds`, resampled to `fps` and resized if asked. */
export async function transcodeClip(inPath: string, outPath: string, options: TranscodeClipOptions): Promise<void> {
  if (options.seconds !== undefined) checkSeconds('seconds', options.seconds);
  if (options.width !== undefined || options.height !== undefined) {
    checkClipSize(options.width ?? 2, options.height ?? 2);
  }
  await checkInputExists(inPath);

  const inputArgs = [...(options.seconds === undefined ? [] : ['-t', String(options.seconds)]), '-i', fileUrl(inPath)];
  // setpts moves the first frame to time 0. A video that starts late (its audio first) would
  // otherwise get copies of its first frame in front of it in an .mp4.
  const videoFilter = `fps=${options.fps},setpts=PTS-STARTPTS,${buildResizeFilter(options.width, options.height)},setsar=1`;
  await encodeAtomically(outPath, options, (partialPath) =>
    buildClipEncodeArgs({ inputArgs, videoFilter, fps: options.fps, outPath: partialPath }),
  );
}

function buildDriveByFilter(
  options: DriveByClipOptions,
  endZoom: number,
  focus: { x: number; y: number },
  frameCount: number,
): string {
  const workWidth = options.width * ZOOM_SUPERSAMPLING;
  const workHeight = options.height * ZOOM_SUPERSAMPLING;
  const lastFrame = Math.max(1, frameCount - 1);
  // zoompan turns the single decoded photo into `frameCount` frames. The crop window of size
  // iw/zoom is centred on the focus point, and zoompan clamps it inside the picture.
  return [
    `scale=${workWidth}:${workHeight}:force_original_aspect_ratio=decrease`,
    `pad=${workWidth}:${workHeight}:(ow-iw)/2:(oh-ih)/2`,
    'setsar=1',
    `zoompan=z='1+${endZoom - 1}*on/${lastFrame}'` +
      `:x='iw*${focus.x}-iw/zoom/2':y='ih*${focus.y}-ih/zoom/2'` +
      `:d=${frameCount}:s=${options.width}x${options.height}:fps=${options.fps}`,
  ].join(',');
}

function buildResizeFilter(width: number | undefined, height: number | undefined): string {
  if (width !== undefined && height !== undefined) {
    return `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`;
  }
  if (width !== undefined) return `scale=${width}:-2`;
  if (height !== undefined) return `scale=-2:${height}`;
  // yuv420p needs even sides.
  return 'scale=trunc(iw/2)*2:trunc(ih/2)*2';
}

/** Encodes into a temporary file beside `outPath` and renames it, so no half-written clip is left. */
async function encodeAtomically(
  outPath: string,
  options: RunFfmpegOptions,
  buildArgs: (partialPath: string) => string[],
): Promise<void> {
  const extension = `.${clipContainerOf(outPath)}`;
  const partialPath = path.join(path.dirname(outPath), `.${path.basename(outPath)}.${process.pid}.partial${extension}`);
  try {
    await runFfmpeg(buildArgs(partialPath), options);
    await rename(partialPath, outPath);
  } catch (error) {
    await rm(partialPath, { force: true });
    throw error;
  }
}

async function checkInputExists(filePath: string): Promise<void> {
  try {
    await access(filePath);
  } catch (error) {
    throw new VideoError('INPUT_NOT_FOUND', `input file not found: ${filePath}`, { cause: error });
  }
}

function checkSeconds(field: string, seconds: number): void {
  if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_CLIP_SECONDS)) {
    throw new VideoError('INVALID_OPTIONS', `${field} should be in (0, ${MAX_CLIP_SECONDS}], instead got ${seconds}`);
  }
}

function checkClipSize(width: number, height: number): void {
  for (const [field, pixels] of [['width', width], ['height', height]] as const) {
    if (!(Number.isInteger(pixels) && pixels >= 2 && pixels <= 4096 && pixels % 2 === 0)) {
      throw new VideoError('INVALID_OPTIONS', `${field} should be an even integer from 2 to 4096 px, instead got ${pixels}`);
    }
  }
}
