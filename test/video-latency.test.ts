// Measures how long the reader's ffmpeg delays a frame. H.264 frames are written to its stdin at
// 25 fps, each carrying a marker (a white square whose position cycles through 32 places), and
// every output frame is matched to the moment its input frame was written.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildClipEncodeArgs, buildReaderArgs } from '../src/video/ffmpeg-args.js';
import { runFfmpeg } from '../src/video/ffmpeg-run.js';
import { RawFrameSplitter } from '../src/video/frame-splitter.js';
import { splitAccessUnits } from '../src/video/annexb.js';

const INPUT_FPS = 25;
const FRAME_COUNT = 150;
const MARKER_PLACES = 32;
const OUT_WIDTH = 640;
const OUT_HEIGHT = 360;
/** An access unit delimiter NAL unit (type 9). */
const ACCESS_UNIT_DELIMITER = Buffer.from([0, 0, 0, 1, 9, 0xf0]);

/** Test pattern with a black 40-px band on top, where a 40x40 white square moves one place per frame. */
const MARKER_SOURCE =
  'testsrc2=size=1280x720:rate=25,drawbox=x=0:y=0:w=1280:h=40:color=black:t=fill[bg];' +
  'color=c=white:size=40x40:rate=25[square];' +
  `[bg][square]overlay=x='mod(n\\,${MARKER_PLACES})*40':y=0:eval=frame:shortest=1`;

/** Returns the marker place (0-31) shown in each frame of the clip, decoded by ffmpeg. */
function calibrateMarkers(clipPath: string): number[] {
  const result = spawnSync('ffmpeg', [
    '-v', 'error', '-f', 'h264', '-i', clipPath,
    '-vf', `crop=1280:40:0:0,scale=${MARKER_PLACES}:1`,
    '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1',
  ]);
  assert.equal(result.status, 0, result.stderr.toString());
  const places: number[] = [];
  for (let offset = 0; offset < result.stdout.length; offset += MARKER_PLACES) {
    const row = [...result.stdout.subarray(offset, offset + MARKER_PLACES)];
    places.push(row.indexOf(Math.max(...row)));
  }
  return places;
}

/** Returns the marker place in an RGB24 output frame, read on a row through the band. */
function markerPlace(rgb: Buffer): number {
  const row = 10;
  let brightestX = 0;
  for (let x = 1; x < OUT_WIDTH; x++) {
    if (rgb[(row * OUT_WIDTH + x) * 3]! > rgb[(row * OUT_WIDTH + brightestX) * 3]!) brightestX = x;
  }
  return Math.floor(brightestX / (OUT_WIDTH / MARKER_PLACES));
}

/**
 * Writes the frames to ffmpeg at 25 fps and returns each output frame's latency in ms: the time
 * from writing its input frame to receiving its last byte. The first two outputs (start-up) are left out.
 */
async function measureLatenciesMs(args: readonly string[], units: Uint8Array[], places: number[]): Promise<number[]> {
  const child = spawn('ffmpeg', [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  child.stdin.on('error', () => {});
  const writtenAtMs: number[] = [];
  const latenciesMs: number[] = [];
  const splitter = new RawFrameSplitter(OUT_WIDTH * OUT_HEIGHT * 3);

  child.stdout.on('data', (chunk: Buffer) =>
    splitter.push(chunk, (frame) => {
      const receivedAtMs = performance.now();
      const place = markerPlace(frame);
      let inputIndex = writtenAtMs.length - 1;
      while (inputIndex >= 0 && places[inputIndex] !== place) inputIndex -= 1;
      latenciesMs.push(inputIndex < 0 ? Number.NaN : receivedAtMs - writtenAtMs[inputIndex]!);
    }),
  );
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));

  const startMs = performance.now();
  for (let i = 0; i < units.length; i++) {
    const dueMs = startMs + (i * 1000) / INPUT_FPS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueMs - performance.now())));
    writtenAtMs.push(performance.now());
    // The delimiter lets ffmpeg's parser finish the frame at once. Without it the
    // parser waits for the next frame's first bytes. Over RTSP the RTP marker bit does this.
    child.stdin.write(Buffer.concat([units[i]!, ACCESS_UNIT_DELIMITER]));
  }
  child.stdin.end();

  assert.equal(await closed, 0, stderr.join(''));
  return latenciesMs.slice(2);
}

function summarize(latenciesMs: number[]): { medianMs: number; maxMs: number } {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, maxMs: sorted.at(-1)! };
}

test('reader args – frames leave without waiting', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'video-latency-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clipPath = path.join(dir, 'marker.h264');
  await runFfmpeg(
    buildClipEncodeArgs({
      inputArgs: ['-f', 'lavfi', '-i', MARKER_SOURCE],
      videoFilter: 'null',
      fps: INPUT_FPS,
      maxFrames: FRAME_COUNT,
      outPath: clipPath,
    }),
  );
  const units = splitAccessUnits(readFileSync(clipPath));
  const places = calibrateMarkers(clipPath);
  assert.equal(units.length, FRAME_COUNT);
  assert.equal(places.length, FRAME_COUNT);

  const readerArgs = buildReaderArgs({ source: { kind: 'stdin', format: 'h264', inputFps: INPUT_FPS }, fps: 5, width: OUT_WIDTH, height: OUT_HEIGHT });
  const fpsFilterArgs = readerArgs.map((arg, i) => (readerArgs[i - 1] === '-vf' ? `fps=5,scale=${OUT_WIDTH}:${OUT_HEIGHT}` : arg));
  // The usual command: fps filter, and ffmpeg's default (frame-threaded) rawvideo encoder.
  const plainArgs = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-threads', '1', '-probesize', '32768', '-analyzeduration', '0',
    '-f', 'h264', '-framerate', String(INPUT_FPS), '-i', 'pipe:0',
    '-an', '-vf', `fps=5,scale=${OUT_WIDTH}:${OUT_HEIGHT}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];

  const ours = summarize(await measureLatenciesMs(readerArgs, units, places));
  const fpsFilter = summarize(await measureLatenciesMs(fpsFilterArgs, units, places));
  const plain = summarize(await measureLatenciesMs(plainArgs, units, places));
  for (const [name, result] of [['select (reader)', ours], ['fps filter', fpsFilter], ['fps filter, default encoder threads', plain]] as const) {
    t.diagnostic(`${name}: median ${result.medianMs.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms`);
  }

  assert.ok(ours.medianMs < 40, `reader median latency ${ours.medianMs.toFixed(1)} ms, expected under one input frame (40 ms)`);
  assert.ok(
    plain.medianMs - ours.medianMs > 150,
    `reader median ${ours.medianMs.toFixed(1)} ms should be about one output interval (200 ms) below ${plain.medianMs.toFixed(1)} ms`,
  );
});
