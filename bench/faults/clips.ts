// Camera clips for the fault runs: a still plate photo shown for a few seconds, then black, in a
// loop, so each pass gives the tracker one vehicle that appears and leaves, and so one sighting event.
import { access, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { buildClipEncodeArgs, fileUrl } from '../../src/video/ffmpeg-args.js';
import { runFfmpeg } from '../../src/video/ffmpeg-run.js';

export interface BlinkClipOptions {
  width: number;
  height: number;
  fps: number;
  /** Seconds with the photo in view, then seconds of black, per cycle. */
  onSeconds: number;
  offSeconds: number;
  cycles: number;
}

export const DEFAULT_BLINK: BlinkClipOptions = { width: 960, height: 540, fps: 10, onSeconds: 3, offSeconds: 3, cycles: 2 };

/**
 * Writes a raw H.264 clip (no B-frames, as the RTSP test server needs) of `photo` blinking on and
 * off. An existing file is kept, so repeated runs share the clips.
 */
export async function makeBlinkClip(photo: string, outPath: string, options: BlinkClipOptions = DEFAULT_BLINK): Promise<string> {
  try {
    await access(outPath);
    return outPath;
  } catch {
    // Not made yet.
  }
  await mkdir(path.dirname(outPath), { recursive: true });
  const cycleSeconds = options.onSeconds + options.offSeconds;
  const { width, height } = options;
  const videoFilter = [
    `scale=${width}:${height}:force_original_aspect_ratio=decrease`,
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
    'setsar=1',
    `drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(mod(t,${cycleSeconds}),${options.onSeconds})'`,
  ].join(',');
  const partial = `${outPath}.${process.pid}.partial.h264`;
  await runFfmpeg(
    buildClipEncodeArgs({
      inputArgs: ['-loop', '1', '-framerate', String(options.fps), '-i', fileUrl(photo)],
      videoFilter,
      fps: options.fps,
      maxFrames: Math.round(cycleSeconds * options.cycles * options.fps),
      outPath: partial,
    }),
  );
  await rename(partial, outPath);
  return outPath;
}
