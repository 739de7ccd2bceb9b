// Frames of a video file as RGB images at a fixed rate, decoded by an ffmpeg child process that
// writes raw rgb24 to stdout. Live camera capture is not handled here.
import { spawn } from 'node:child_process';
import { VisionError } from './errors.js';
import type { RgbImage } from './image.js';

export interface VideoFrame {
  index: number;
  /** Presentation time of the frame from the start of the file. */
  timeMs: number;
  image: RgbImage;
}

/** Maximum ffmpeg stderr kept for the error message, in bytes. */
const STDERR_TAIL_BYTES = 4096;

/** Returns the width and height of the first video stream, as ffprobe reports them. */
export async function probeVideoSize(filePath: string): Promise<{ width: number; height: number }> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', filePath];
  const { code, stdout, stderrTail } = await runToEnd('ffprobe', args);
  const match = /^(\d+),(\d+)/.exec(stdout.trim());
  if (code !== 0 || !match) {
    const reason = stderrTail.trim() || 'no video stream found';
    throw new VisionError('VIDEO_INVALID', `cannot read ${filePath} as a video: ${reason}`);
  }
  return { width: Number(match[1]), height: Number(match[2]) };
}

/**
 * Yields frames sampled at `fps` frames per second. Throws VisionError VIDEO_INVALID when ffprobe
 * or ffmpeg fails.
 * NOTE: rotation metadata is ignored (-noautorotate), so phone videos recorded upright come out
 * sideways.
 */
export async function* readVideoFrames(filePath: string, fps: number): AsyncGenerator<VideoFrame> {
  const { width, height } = await probeVideoSize(filePath);
  const frameBytes = width * height * 3;
  const args = ['-v', 'error', '-noautorotate', '-i', filePath, '-vf', `fps=${fps}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  ffmpeg.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) => resolve(code));
  });

  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  try {
    for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        const data = new Uint8Array(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
        yield { index, timeMs: (index * 1000) / fps, image: { width, height, data } };
        index++;
      }
    }
  } finally {
    if (ffmpeg.exitCode === null) ffmpeg.kill('SIGTERM');
  }

  const code = await exited;
  if (code !== 0) {
    throw new VisionError('VIDEO_INVALID', `ffmpeg failed on ${filePath} (exit ${code}): ${stderrTail.trim()}`);
  }
}

function runToEnd(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderrTail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderrTail }));
  });
}
