// Replay cameras with real ffmpeg: folders play in name order, a slow consumer makes ffmpeg wait
// without losing frames, real-time replays keep the clip's pace, and stop ends a replay promptly.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { ReplayError, listReplayFiles } from '../agent/capture/replay-files.js';
import { ReplaySource, type ReplayCamera } from '../agent/capture/replay-source.js';
import type { PipelineFrame } from '../agent/pipeline/frame-pipeline.js';
import { makeDriveByClip } from '../src/video/clips.js';
import { fixturesDir } from './support/assets.js';

const logger = pino({ level: 'silent' });

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-replay-capture-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function camera(source: string, overrides: Partial<ReplayCamera> = {}): ReplayCamera {
  return { id: 'replay', source, realtime: false, loop: false, sourceFps: 25, analysisFps: 5, width: 320, height: 180, ffmpegInputArgs: [], ...overrides };
}

/** Plays a replay to its end and returns its frames and the wall time it took. */
async function playToEnd(options: { camera: ReplayCamera; onFrame?: (frame: PipelineFrame) => void | Promise<void> }) {
  const frames: PipelineFrame[] = [];
  const startedMs = Date.now();
  await new Promise<void>((resolve) => {
    const source = new ReplaySource({
      camera: options.camera,
      onFrame: (frame) => {
        frames.push(frame);
        return options.onFrame?.(frame);
      },
      onEnd: resolve,
      logger,
      epochMs: 1_000_000,
    });
    source.start();
  });
  return { frames, elapsedMs: Date.now() - startedMs };
}

test('replay files – folder in numeric name order', (t) => {
  const dir = tempDir(t);
  for (const name of ['clip10.mp4', 'clip2.h264', 'notes.txt', 'clip1.MKV']) writeFileSync(path.join(dir, name), '');
  mkdirSync(path.join(dir, 'sub.mp4'));
  assert.deepEqual(listReplayFiles(dir).map((file) => path.basename(file)), ['clip1.MKV', 'clip2.h264', 'clip10.mp4']);
  assert.deepEqual(listReplayFiles(path.join(dir, 'clip2.h264')), [path.join(dir, 'clip2.h264')], 'a file replays as itself');
});

test('replay files – missing or empty source rejected', (t) => {
  const dir = tempDir(t);
  assert.throws(() => listReplayFiles(path.join(dir, 'absent')), (error: Error) => error instanceof ReplayError && error.code === 'REPLAY_SOURCE_NOT_FOUND');
  assert.throws(() => listReplayFiles(dir), (error: Error) => error instanceof ReplayError && error.code === 'REPLAY_FOLDER_EMPTY' && error.message.includes(dir));
});

test('replay – slow consumer loses no frames', { timeout: 60_000 }, async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  const dir = tempDir(t);
  const clip = path.join(dir, 'clip.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clip, { seconds: 2, width: 640, height: 360, fps: 25 });

  // Each frame takes 100 ms to accept, far slower than ffmpeg decodes.
  const { frames } = await playToEnd({ camera: camera(clip), onFrame: () => new Promise((resolve) => setTimeout(resolve, 100)) });
  assert.equal(frames.length, 10, '2 s at 5 frames a second');
  assert.deepEqual(frames.map((frame) => frame.index), [...Array(10).keys()]);
  assert.deepEqual(frames.map((frame) => frame.mediaTimeMs), frames.map((_, i) => 1_000_000 + i * 200), 'frame times follow the analysis interval from the epoch');
  assert.ok(frames.every((frame) => frame.image.data.length === 320 * 180 * 3));
});

test('replay – real time keeps clip pace', { timeout: 60_000 }, async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  const dir = tempDir(t);
  const clip = path.join(dir, 'clip.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clip, { seconds: 2, width: 640, height: 360, fps: 25 });

  const { frames, elapsedMs } = await playToEnd({ camera: camera(clip, { realtime: true }) });
  assert.equal(frames.length, 10);
  assert.ok(elapsedMs >= 1700, `a 2 s clip in real time should take about 2 s, took ${elapsedMs} ms`);
  assert.ok(frames.every((frame) => frame.mediaTimeMs === undefined), 'real-time frames use the clock');
});

test('replay – stop ends a looping replay', { timeout: 60_000 }, async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  const dir = tempDir(t);
  const clip = path.join(dir, 'clip.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clip, { seconds: 2, width: 640, height: 360, fps: 25 });

  let frames = 0;
  let ended = false;
  let release: () => void = () => {};
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const source = new ReplaySource({
    camera: camera(clip, { loop: true }),
    onFrame: () => {
      frames += 1;
      // The third frame is held, as by a full pipeline, when stop arrives.
      return frames === 3 ? blocked : undefined;
    },
    onEnd: () => (ended = true),
    logger,
  });
  source.start();
  while (frames < 3) await new Promise((resolve) => setTimeout(resolve, 20));

  const stopping = source.stop();
  release();
  const startedMs = Date.now();
  await stopping;
  assert.ok(Date.now() - startedMs < 3000, 'stop returns before the SIGKILL fallback');
  assert.equal(ended, false, 'a stopped replay does not report its end');
  const afterStop = frames;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(frames, afterStop, 'no frame arrives after stop');
});

test('replay – decoder arguments reach ffmpeg', { timeout: 60_000 }, async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  const dir = tempDir(t);
  const clip = path.join(dir, 'clip.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clip, { seconds: 1, width: 640, height: 360, fps: 25 });

  const commands: string[][] = [];
  let frames = 0;
  await new Promise<void>((resolve) => {
    const source = new ReplaySource({
      camera: camera(clip, { ffmpegInputArgs: ['-hwaccel', 'auto'] }),
      onFrame: () => void (frames += 1),
      onEnd: resolve,
      logger,
      spawn: (command, args) => {
        commands.push([...args]);
        return spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      },
    });
    source.start();
  });
  const args = commands[0]!;
  const hwaccel = args.indexOf('-hwaccel');
  assert.ok(hwaccel >= 0, 'the camera\'s decoder arguments are passed to ffmpeg');
  assert.equal(args[hwaccel + 1], 'auto');
  assert.ok(hwaccel < args.indexOf('-i'), 'decoder arguments come before the input');
  assert.equal(frames, 5, 'ffmpeg still decodes with -hwaccel auto, falling back to software');
});
