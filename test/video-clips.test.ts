// Tests of test-clip generation with the real ffmpeg on the real fixture photo and video: stream
// properties the RTSP server relies on, and that the drive-by zoom keeps both plates in view.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { makeDriveByClip, transcodeClip } from '../src/video/clips.js';
import { VideoError } from '../src/video/errors.js';
import { fixturesDir } from './support/assets.js';

interface ProbedStream {
  codec_name: string;
  profile: string;
  width: number;
  height: number;
  pix_fmt: string;
  has_b_frames: number;
  nb_read_frames: string;
}

function probeStream(clipPath: string): ProbedStream {
  const result = spawnSync('ffprobe', [
    '-v', 'error',
    '-count_frames',
    '-show_entries', 'stream=codec_name,profile,width,height,pix_fmt,has_b_frames,nb_read_frames',
    '-of', 'json',
    clipPath,
  ]);
  assert.equal(result.status, 0, result.stderr.toString());
  const streams = (JSON.parse(result.stdout.toString()) as { streams: ProbedStream[] }).streams;
  assert.equal(streams.length, 1, 'one video stream and no audio');
  return streams[0]!;
}

function keyframeIndexes(clipPath: string): number[] {
  const result = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'frame=key_frame', '-of', 'json', clipPath]);
  assert.equal(result.status, 0, result.stderr.toString());
  const frames = (JSON.parse(result.stdout.toString()) as { frames: Array<{ key_frame: number }> }).frames;
  return frames.flatMap((frame, index) => (frame.key_frame === 1 ? [index] : []));
}

function decodeFrames(clipPath: string, frameIndexes: number[], width: number, height: number): Buffer[] {
  const select = frameIndexes.map((index) => `eq(n\\,${index})`).join('+');
  const result = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', clipPath, '-vf', `select=${select}`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  const frameBytes = width * height * 3;
  assert.equal(result.stdout.length, frameBytes * frameIndexes.length);
  return frameIndexes.map((_, i) => result.stdout.subarray(i * frameBytes, (i + 1) * frameBytes));
}

/** Share of plate-blue pixels (strong blue, little red) inside a box of an RGB24 frame. */
function blueShare(rgb: Buffer, width: number, box: [number, number, number, number]): number {
  const [x1, y1, x2, y2] = box.map(Math.round) as [number, number, number, number];
  let blue = 0;
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const i = (y * width + x) * 3;
      const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
      if (b > 120 && r < 90 && b - g > 40) blue += 1;
    }
  }
  return blue / ((x2 - x1) * (y2 - y1));
}

function makeTempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'video-clips-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('makeDriveByClip – H.264 stream the RTSP server can loop', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const clipPath = path.join(makeTempDir(t), 'single_blue.h264');

  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clipPath, { seconds: 3, width: 1280, height: 720, fps: 25 });

  const stream = probeStream(clipPath);
  assert.equal(stream.codec_name, 'h264');
  assert.equal(stream.profile, 'Main');
  assert.equal(stream.width, 1280);
  assert.equal(stream.height, 720);
  assert.equal(stream.pix_fmt, 'yuv420p');
  assert.equal(stream.has_b_frames, 0);
  assert.equal(Number(stream.nb_read_frames), 75);
  assert.deepEqual(keyframeIndexes(clipPath), [0, 25, 50]);
});

test('makeDriveByClip – both plates stay in view', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const clipPath = path.join(makeTempDir(t), 'single_blue.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clipPath, { seconds: 3, width: 1280, height: 720, fps: 25 });

  // The photo is 1106x826. Plate boxes in photo pixels, measured by colour on the photo.
  const plateBoxesPx: Array<[number, number, number, number]> = [
    [244, 519, 296, 567],
    [962, 367, 1011, 383],
  ];
  // Fitted into 1280x720, the photo is scaled by 720/826 and centred. A zoom z scales about the centre.
  const fitScale = 720 / 826;
  const offsetX = (1280 - 1106 * fitScale) / 2;
  const toFrame = (box: [number, number, number, number], zoom: number): [number, number, number, number] => [
    640 + (offsetX + box[0] * fitScale - 640) * zoom,
    360 + (box[1] * fitScale - 360) * zoom,
    640 + (offsetX + box[2] * fitScale - 640) * zoom,
    360 + (box[3] * fitScale - 360) * zoom,
  ];

  const [first, last] = decodeFrames(clipPath, [0, 74], 1280, 720);
  for (const [frame, zoom, label] of [[first!, 1, 'first'], [last!, 1.3, 'last']] as const) {
    for (const box of plateBoxesPx) {
      const share = blueShare(frame, 1280, toFrame(box, zoom));
      assert.ok(share > 0.25, `${label} frame: plate at ${box.join(',')} is ${(share * 100).toFixed(0)}% plate blue`);
    }
  }
  const leftBarShare = blueShare(first!, 1280, [0, 0, 100, 720]);
  assert.equal(leftBarShare, 0, 'the first frame shows the whole photo, letterboxed');
});

test('transcodeClip – cuts and resamples a video', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const dir = makeTempDir(t);
  const clipPath = path.join(dir, 'pedestrians.h264');

  await transcodeClip(path.join(fixtures, 'video', 'pedestrians-overhead.avi'), clipPath, { seconds: 12, fps: 25, width: 640 });

  const stream = probeStream(clipPath);
  assert.equal(Number(stream.nb_read_frames), 300, '12 s at 25 fps');
  assert.equal(stream.width, 640);
  assert.equal(stream.height, 480, 'height follows the 4:3 input');
  assert.equal(stream.has_b_frames, 0);
  assert.equal(stream.profile, 'Main');
  assert.deepEqual(readdirSync(dir), ['pedestrians.h264'], 'no temporary file left');
});

test('transcodeClip – fits into a fixed size as mp4', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const clipPath = path.join(makeTempDir(t), 'speakers.mp4');

  await transcodeClip(path.join(fixtures, 'video', 'stage-two-speakers.mp4'), clipPath, { seconds: 2, fps: 10, width: 320, height: 320 });

  const stream = probeStream(clipPath);
  assert.equal(stream.width, 320);
  assert.equal(stream.height, 320);
  assert.equal(Number(stream.nb_read_frames), 20);
});

test('clips – input and output errors', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const dir = makeTempDir(t);
  const options = { seconds: 1, width: 320, height: 180, fps: 25 };

  await assert.rejects(
    makeDriveByClip(path.join(dir, 'missing.jpg'), path.join(dir, 'a.h264'), options),
    (error: unknown) => error instanceof VideoError && error.code === 'INPUT_NOT_FOUND',
  );
  await assert.rejects(
    makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), path.join(dir, 'a.mkv'), options),
    (error: unknown) => error instanceof VideoError && error.code === 'INVALID_OPTIONS',
  );
  await assert.rejects(
    makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), path.join(dir, 'a.h264'), { ...options, width: 321 }),
    (error: unknown) => error instanceof VideoError && error.code === 'INVALID_OPTIONS',
  );
  await assert.rejects(
    transcodeClip(path.join(fixtures, 'plates', 'labels.json'), path.join(dir, 'b.h264'), { fps: 25 }),
    (error: unknown) =>
      error instanceof VideoError && error.code === 'FFMPEG_FAILED' && /Invalid data found/.test(error.message),
  );
  assert.deepEqual(readdirSync(dir), [], 'failed encodes leave no file');
});
