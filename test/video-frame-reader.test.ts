// Tests of the camera reader's parts (frame splitting, backoff, stderr tail) and of its
// supervision: scripted fake ffmpeg processes for exits and logs, real ffmpeg for the watchdog.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../src/common/log.js';
import { makeDriveByClip } from '../src/video/clips.js';
import {
  CameraReader,
  type CameraFrame,
  type CameraReaderOptions,
  type CameraRestart,
  type FfmpegSpawner,
} from '../src/video/frame-reader.js';
import { RawFrameSplitter } from '../src/video/frame-splitter.js';
import { LineRingBuffer } from '../src/video/line-ring-buffer.js';
import { RestartBackoff } from '../src/video/restart-backoff.js';
import { fixturesDir } from './support/assets.js';

/** Scripted stand-in for an ffmpeg child process. */
class FakeFfmpeg extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: NodeJS.Signals[] = [];
  exited = false;

  constructor(readonly pid: number) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    this.exit(null, signal);
    return true;
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.stdout.end();
    this.stderr.end();
    setImmediate(() => this.emit('close', code, signal));
  }
}

function fakeSpawner(onSpawn: (child: FakeFfmpeg, args: readonly string[]) => void = () => {}): {
  spawn: FfmpegSpawner;
  children: FakeFfmpeg[];
  spawnedAtMs: number[];
} {
  const children: FakeFfmpeg[] = [];
  const spawnedAtMs: number[] = [];
  const spawn: FfmpegSpawner = (_command, args) => {
    const child = new FakeFfmpeg(1000 + children.length);
    children.push(child);
    spawnedAtMs.push(performance.now());
    setImmediate(() => onSpawn(child, args));
    return child;
  };
  return { spawn, children, spawnedAtMs };
}

function captureLogger(): { logger: Logger; records: () => Array<Record<string, unknown>> } {
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const records = (): Array<Record<string, unknown>> =>
    text
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, records };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function readerOptions(overrides: Partial<CameraReaderOptions>): CameraReaderOptions {
  return {
    cameraId: 'cam-test',
    source: { kind: 'rtsp', url: 'rtsp://127.0.0.1:1/unused' },
    fps: 5,
    width: 4,
    height: 2,
    logger: captureLogger().logger,
    ...overrides,
  };
}

function sequentialBytes(length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => i % 251));
}

test('RawFrameSplitter – frames across chunk boundaries', () => {
  const frameBytes = 6;
  const stream = sequentialBytes(frameBytes * 7);
  const chunkSizes = [4, 4, 10, 1, 5, 12, 3, 3];
  assert.equal(chunkSizes.reduce((sum, size) => sum + size, 0), stream.length);

  const splitter = new RawFrameSplitter(frameBytes);
  const frames: Buffer[] = [];
  let offset = 0;
  for (const size of chunkSizes) {
    splitter.push(stream.subarray(offset, offset + size), (frame) => frames.push(Buffer.from(frame)));
    offset += size;
  }

  assert.equal(frames.length, 7);
  frames.forEach((frame, index) => {
    assert.deepEqual(frame, stream.subarray(index * frameBytes, (index + 1) * frameBytes), `frame ${index}`);
  });
  assert.equal(splitter.bufferedBytes, 0);
});

test('RawFrameSplitter – whole frames are views, not copies', () => {
  const splitter = new RawFrameSplitter(4);
  const chunk = sequentialBytes(10);
  const frames: Buffer[] = [];
  splitter.push(chunk, (frame) => frames.push(frame));

  assert.equal(frames.length, 2);
  assert.equal(frames[0]!.buffer, chunk.buffer);
  assert.equal(frames[1]!.byteOffset, chunk.byteOffset + 4);
  assert.equal(splitter.bufferedBytes, 2);

  splitter.reset();
  assert.equal(splitter.bufferedBytes, 0);
  splitter.push(sequentialBytes(4), (frame) => frames.push(frame));
  assert.deepEqual(frames[2], sequentialBytes(4), 'reset drops the partial frame');
});

test('RestartBackoff – exponential growth up to the cap', () => {
  const backoff = new RestartBackoff({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitterRatio: 0.2, random: () => 0.5 });
  const delays = Array.from({ length: 6 }, () => backoff.nextDelayMs());
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoff.attempt, 6);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.nextDelayMs(), 100);
});

test('RestartBackoff – jitter stays within its ratio', () => {
  const low = new RestartBackoff({ initialDelayMs: 1000, maxDelayMs: 10_000, jitterRatio: 0.2, random: () => 0 });
  const high = new RestartBackoff({ initialDelayMs: 1000, maxDelayMs: 10_000, jitterRatio: 0.2, random: () => 0.999999 });
  assert.equal(low.nextDelayMs(), 800);
  assert.equal(high.nextDelayMs(), 1200);
  const capped = new RestartBackoff({ initialDelayMs: 1000, maxDelayMs: 1000, jitterRatio: 0.2, random: () => 0.999999 });
  assert.equal(capped.nextDelayMs(), 1000, 'jitter never exceeds the cap');
  assert.throws(() => new RestartBackoff({ initialDelayMs: 0 }), RangeError);
  assert.throws(() => new RestartBackoff({ jitterRatio: 1 }), RangeError);
});

test('LineRingBuffer – keeps the last lines only', () => {
  const tail = new LineRingBuffer(3, 10);
  tail.push('one\ntwo\r\nthr');
  tail.push('ee\rfour\n\nfive is a long line\nsix');
  // "three" was dropped for the count, the blank line skipped, and the long line cut to 10 chars.
  assert.deepEqual(tail.snapshot(), ['four', 'five is a ', 'six']);
  tail.clear();
  assert.deepEqual(tail.snapshot(), []);
});

test('CameraReader – splits scripted chunks into frames', async () => {
  const frameBytes = 4 * 2 * 3;
  const stream = sequentialBytes(frameBytes * 3);
  const fake = fakeSpawner((child) => {
    for (const [start, end] of [[0, 10], [10, 40], [40, 45], [45, 72]] as const) {
      child.stdout.write(stream.subarray(start, end));
    }
  });
  const reader = new CameraReader(readerOptions({ spawn: fake.spawn }));
  const frames: CameraFrame[] = [];
  reader.on('frame', (frame) => frames.push(frame));
  reader.start();

  await waitFor(() => frames.length === 3, 2000, 'three frames');
  await reader.stop();

  frames.forEach((frame, index) => {
    assert.equal(frame.cameraId, 'cam-test');
    assert.equal(frame.index, index);
    assert.equal(frame.image.width, 4);
    assert.equal(frame.image.height, 2);
    assert.deepEqual(Buffer.from(frame.image.data), stream.subarray(index * frameBytes, (index + 1) * frameBytes));
    assert.ok(frame.receivedAtMs > 0);
  });
  assert.equal(reader.stats().framesIn, 3);
  assert.notEqual(reader.stats().lastFrameAtMs, null);
});

test('CameraReader – restarts after exit code 0 with backoff', async () => {
  const fake = fakeSpawner((child) => child.exit(0));
  const reader = new CameraReader(
    readerOptions({
      spawn: fake.spawn,
      backoff: { initialDelayMs: 40, maxDelayMs: 160, multiplier: 2, jitterRatio: 0, random: () => 0.5 },
    }),
  );
  const restarts: CameraRestart[] = [];
  reader.on('restart', (restart) => restarts.push(restart));
  reader.start();

  await waitFor(() => fake.children.length >= 5, 3000, 'five ffmpeg runs');
  await reader.stop();

  assert.deepEqual(
    restarts.slice(0, 4).map((restart) => restart.delayMs),
    [40, 80, 160, 160],
  );
  assert.deepEqual(
    restarts.slice(0, 4).map((restart) => restart.attempt),
    [1, 2, 3, 4],
  );
  assert.equal(restarts[0]!.reason, 'exited with code 0');
  for (let i = 1; i < 5; i++) {
    const gapMs = fake.spawnedAtMs[i]! - fake.spawnedAtMs[i - 1]!;
    assert.ok(gapMs >= restarts[i - 1]!.delayMs - 2, `gap ${i} was ${gapMs.toFixed(1)} ms`);
  }
  assert.ok(reader.stats().restarts >= 4);
});

test('CameraReader – healthy run resets the backoff', async () => {
  const frame = sequentialBytes(24);
  let runs = 0;
  const fake = fakeSpawner((child) => {
    runs += 1;
    if (runs === 1) {
      child.exit(1);
      return;
    }
    // The second run delivers frames for 120 ms, longer than healthyAfterMs, then ends.
    const timer = setInterval(() => child.stdout.write(frame), 20);
    setTimeout(() => {
      clearInterval(timer);
      child.exit(0);
    }, 120);
  });
  const reader = new CameraReader(
    readerOptions({
      spawn: fake.spawn,
      healthyAfterMs: 80,
      backoff: { initialDelayMs: 30, maxDelayMs: 1000, jitterRatio: 0 },
    }),
  );
  const restarts: CameraRestart[] = [];
  reader.on('restart', (restart) => restarts.push(restart));
  reader.start();

  await waitFor(() => restarts.length >= 2, 3000, 'two restarts');
  await reader.stop();

  assert.equal(restarts[0]!.attempt, 1);
  assert.equal(restarts[0]!.reason, 'exited with code 1');
  assert.equal(restarts[1]!.attempt, 1, 'the healthy run reset the attempt count');
  assert.equal(restarts[1]!.delayMs, 30);
});

test('CameraReader – one redacted log line per restart', async () => {
  const capture = captureLogger();
  const fake = fakeSpawner((child) => {
    child.stderr.write('Opening rtsp://admin:secret@10.0.0.7/stream\n');
    child.stderr.write('rtsp://admin:secret@10.0.0.7/stream: Connection refused\n');
    setTimeout(() => child.exit(1), 20);
  });
  const reader = new CameraReader(
    readerOptions({ spawn: fake.spawn, logger: capture.logger, backoff: { initialDelayMs: 5000 } }),
  );
  reader.start();

  await once(reader, 'restart');
  await reader.stop();

  const warnings = capture.records().filter((record) => record.level === 40);
  assert.equal(warnings.length, 1);
  const line = warnings[0]!;
  assert.equal(line.cameraId, 'cam-test');
  assert.equal(line.reason, 'exited with code 1');
  assert.equal(line.attempt, 1);
  assert.equal(typeof line.nextDelayMs, 'number');
  assert.match(String(line.stderr), /Connection refused/);
  assert.match(String(line.stderr), /rtsp:\/\/\*\*\*@10\.0\.0\.7/);
  assert.doesNotMatch(JSON.stringify(capture.records()), /secret/);
});

test('CameraReader – startup timeout kills a silent ffmpeg', async () => {
  const fake = fakeSpawner();
  const reader = new CameraReader(
    readerOptions({ spawn: fake.spawn, startupTimeoutMs: 100, backoff: { initialDelayMs: 5000 } }),
  );
  reader.start();

  const [restart] = (await once(reader, 'restart')) as [CameraRestart];
  await reader.stop();

  assert.equal(restart.reason, 'no frame within 100 ms of start');
  assert.deepEqual(fake.children[0]!.signals, ['SIGKILL']);
  assert.equal(fake.children.length, 1, 'stop() cancelled the pending restart');
});

test('CameraReader – stop ends ffmpeg and cancels restarts', async () => {
  const fake = fakeSpawner((child) => child.stdout.write(sequentialBytes(24)));
  const reader = new CameraReader(readerOptions({ spawn: fake.spawn }));
  reader.start();
  await once(reader, 'frame');

  await reader.stop();
  await new Promise((resolve) => setTimeout(resolve, 100));

  assert.deepEqual(fake.children[0]!.signals, ['SIGTERM']);
  assert.equal(fake.children.length, 1);
  assert.equal(reader.stats().pid, null);
});

test('CameraReader – missing ffmpeg binary is retried', async () => {
  const reader = new CameraReader(
    readerOptions({ ffmpegPath: '/nonexistent/ffmpeg', backoff: { initialDelayMs: 20, maxDelayMs: 40 } }),
  );
  const restarts: CameraRestart[] = [];
  reader.on('restart', (restart) => restarts.push(restart));
  reader.start();

  await waitFor(() => restarts.length >= 2, 3000, 'two restarts');
  await reader.stop();

  assert.match(restarts[0]!.reason, /^spawn failed: .*ENOENT/);
  assert.equal(restarts[1]!.attempt, 2);
});

test('CameraReader – watchdog kills a stopped ffmpeg', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'video-watchdog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clipPath = path.join(dir, 'drive-by.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clipPath, { seconds: 2, width: 640, height: 360, fps: 25 });

  const reader = new CameraReader({
    cameraId: 'cam-watchdog',
    source: { kind: 'file', path: clipPath, realtime: true, loop: true, inputFps: 25 },
    fps: 5,
    width: 320,
    height: 180,
    watchdogMs: 1000,
    backoff: { initialDelayMs: 100 },
    logger: captureLogger().logger,
  });
  const frames: CameraFrame[] = [];
  reader.on('frame', (frame) => frames.push(frame));
  t.after(() => reader.stop());
  reader.start();
  await waitFor(() => frames.length >= 3, 10_000, 'three frames');

  const frozenPid = reader.stats().pid!;
  process.kill(frozenPid, 'SIGSTOP');
  const stoppedAtMs = performance.now();
  const [restart] = (await once(reader, 'restart')) as [CameraRestart];
  const detectedAfterMs = performance.now() - stoppedAtMs;

  assert.match(restart.reason, /^no frame for \d+ ms$/);
  assert.ok(detectedAfterMs >= 700, `detected after ${detectedAfterMs.toFixed(0)} ms, before the 1000 ms limit`);
  assert.ok(detectedAfterMs < 3000, `detected after ${detectedAfterMs.toFixed(0)} ms`);
  assert.throws(() => process.kill(frozenPid, 0), { code: 'ESRCH' }, 'the stopped ffmpeg was killed');

  const framesBefore = frames.length;
  await waitFor(() => frames.length >= framesBefore + 3, 10_000, 'frames after the restart');
  assert.notEqual(reader.stats().pid, frozenPid);
  assert.equal(reader.stats().restarts, 1);
});

test('CameraReader – loops a raw h264 file', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'video-loop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clipPath = path.join(dir, 'short.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clipPath, { seconds: 1, width: 640, height: 360, fps: 25 });

  const reader = new CameraReader({
    cameraId: 'cam-loop',
    source: { kind: 'file', path: clipPath, realtime: true, loop: true, inputFps: 25 },
    fps: 5,
    width: 320,
    height: 180,
    logger: captureLogger().logger,
  });
  const frames: CameraFrame[] = [];
  reader.on('frame', (frame) => frames.push(frame));
  t.after(() => reader.stop());
  reader.start();

  // A 1 s clip at 5 fps gives 5 frames per pass, so 12 frames need three passes.
  await waitFor(() => frames.length >= 12, 8000, 'twelve frames from a 1 s clip');
  assert.equal(reader.stats().restarts, 0, 'the loop needed no restart');
});
