// Benchmark section: how long the reader's ffmpeg delays a frame (decode, select, scale, RGB out).
// The clip is written to ffmpeg's stdin one access unit at a time at its own frame rate, and each
// decoded frame's arrival is compared with the time its access unit was written.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { summarize, type Summary } from '../src/common/stats.js';
import { buildReaderArgs } from '../src/video/ffmpeg-args.js';
import { RawFrameSplitter } from '../src/video/frame-splitter.js';
import { splitAccessUnits } from '../src/video/annexb.js';

/** H.264 NAL unit type 9 with primary_pic_type 7 (any slice type). */
const ACCESS_UNIT_DELIMITER = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);

export interface FfmpegLatencyOptions {
  clipPath: string;
  clipFps: number;
  width: number;
  height: number;
  /** Access units written; the clip is repeated if shorter. */
  frames: number;
}

/**
 * Returns the latency of each frame through ffmpeg with the agent's reader arguments. The output
 * rate equals the clip rate so every written frame comes out and arrival k matches write k.
 */
export async function measureFfmpegLatency(options: FfmpegLatencyOptions): Promise<{ firstFrameMs: number; steady: Summary }> {
  const units = splitAccessUnits(readFileSync(options.clipPath));
  const args = buildReaderArgs({ source: { kind: 'stdin', format: 'h264', inputFps: options.clipFps }, fps: options.clipFps, width: options.width, height: options.height });
  const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'ignore'] });

  const writtenAtMs: number[] = [];
  const latenciesMs: number[] = [];
  const splitter = new RawFrameSplitter(options.width * options.height * 3);
  child.stdout.on('data', (chunk: Buffer) =>
    splitter.push(chunk, () => {
      const index = latenciesMs.length;
      latenciesMs.push(performance.now() - writtenAtMs[index]!);
    }),
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const periodMs = 1000 / options.clipFps;
  const startMs = performance.now();
  for (let k = 0; k < options.frames; k++) {
    const due = startMs + k * periodMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    // Repeating the clip restarts at its first unit, which contains the parameter sets and a keyframe.
    writtenAtMs.push(performance.now());
    // A trailing access-unit delimiter ends the unit at once; without it ffmpeg's H.264 parser waits
    // for the next unit's start code, one frame period later. RTP's marker bit does the same over RTSP.
    child.stdin.write(Buffer.concat([units[k % units.length]!, ACCESS_UNIT_DELIMITER]));
  }
  child.stdin.end();
  await exited;
  // ffmpeg delays the first frames until it has read its probe size (32 KiB), so the first two seconds are
  // reported as start-up. The last frames come out only at end of input, so they are left out.
  const warmUpFrames = Math.ceil(2 * options.clipFps);
  return {
    firstFrameMs: latenciesMs[0] ?? Number.NaN,
    steady: summarize(latenciesMs.slice(warmUpFrames, Math.max(warmUpFrames, options.frames - 2))),
  };
}
