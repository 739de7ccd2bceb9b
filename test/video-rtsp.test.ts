// Integration tests on loopback: a drive-by clip served by the GStreamer RTSP server and read by
// CameraReader with the real ffmpeg, including recovery after the server is killed and restarted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../src/common/log.js';
import { makeDriveByClip } from '../src/video/clips.js';
import { VideoError } from '../src/video/errors.js';
import { CameraReader, type CameraFrame, type CameraRestart } from '../src/video/frame-reader.js';
import { rtspAvailable, startRtspCameras, type RtspCameras } from '../src/video/rtsp-server.js';
import { fixturesDir } from './support/assets.js';

const requireAssets = process.env.VA_REQUIRE_ASSETS === '1';

function captureLogger(): { logger: Logger; records: () => Array<Record<string, unknown>> } {
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    records: () =>
      text
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU time (user + system) of a process in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;
  // After the command name, utime and stime are fields 12 and 13 (0-based).
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Returns whether the test may run. It skips the test when GStreamer is missing, unless assets are required. */
async function requireRtsp(t: TestContext): Promise<boolean> {
  if (await rtspAvailable()) return true;
  const reason = 'GStreamer RTSP server bindings not installed for /usr/bin/python3';
  if (requireAssets) assert.fail(reason);
  t.skip(reason);
  return false;
}

async function makeClip(t: TestContext, fixtures: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'video-rtsp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clipPath = path.join(dir, 'single_blue.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clipPath, { seconds: 3, width: 1280, height: 720, fps: 25 });
  return clipPath;
}

/** Creates an empty clip file, which passes the checks that run before the server reads the clip. */
function makeDummyClip(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'video-rtsp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clipPath = path.join(dir, 'empty.h264');
  writeFileSync(clipPath, '');
  return clipPath;
}

test('rtspAvailable – false without the interpreter', async () => {
  assert.equal(await rtspAvailable('/nonexistent/python3'), false);
});

test('CameraReader – reads RTSP and recovers after server restart', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null || !(await requireRtsp(t))) return;
  const clipPath = await makeClip(t, fixtures);
  const serverLog = captureLogger();
  const cameras = [{ name: 'cam1', clipPath, fps: 25 }];
  let server: RtspCameras = await startRtspCameras({ port: 0, cameras, logger: serverLog.logger });
  t.after(() => server.stop());

  const reader = new CameraReader({
    cameraId: 'cam1',
    source: { kind: 'rtsp', url: server.urls.cam1! },
    fps: 5,
    width: 640,
    height: 360,
    backoff: { initialDelayMs: 200, maxDelayMs: 1000 },
    logger: captureLogger().logger,
  });
  const frames: CameraFrame[] = [];
  reader.on('frame', (frame) => frames.push(frame));
  t.after(() => reader.stop());
  reader.start();
  await waitFor(() => frames.length >= 2, 10_000, 'the first frames');

  // Size and rate over a 4 s window, and the reader's CPU time in that window.
  const windowStart = frames.length;
  const ffmpegPid = reader.stats().pid!;
  const cpuBefore = cpuSeconds(ffmpegPid);
  await sleep(4000);
  const cpuShare = (cpuSeconds(ffmpegPid) - cpuBefore) / 4;
  const window = frames.slice(windowStart);
  t.diagnostic(`one 720p25 reader at 5 fps 640x360: ${(cpuShare * 100).toFixed(1)}% of a core`);

  assert.ok(window.length >= 17, `${window.length} frames in 4 s, expected about 20`);
  assert.ok(window.length <= 23, `${window.length} frames in 4 s, expected about 20`);
  const intervalsMs = window.slice(1).map((frame, i) => frame.receivedAtMs - window[i]!.receivedAtMs);
  const medianIntervalMs = median(intervalsMs);
  assert.ok(medianIntervalMs >= 150, `median interval ${medianIntervalMs} ms, expected about 200`);
  assert.ok(medianIntervalMs <= 250, `median interval ${medianIntervalMs} ms, expected about 200`);
  for (const frame of window) {
    assert.equal(frame.image.width, 640);
    assert.equal(frame.image.height, 360);
    assert.equal(frame.image.data.length, 640 * 360 * 3);
  }
  const pixels = window.at(-1)!.image.data;
  const meanLevel = pixels.reduce((sum, value) => sum + value, 0) / pixels.length;
  assert.ok(meanLevel > 40, `mean level ${meanLevel.toFixed(1)}: a decoded photo, not a black frame`);
  assert.ok(meanLevel < 215, `mean level ${meanLevel.toFixed(1)}: a decoded photo, not a white frame`);

  // Kill the server: the reader's ffmpeg ends and is restarted until the server is back.
  const restarted = once(reader, 'restart') as Promise<[CameraRestart]>;
  process.kill(server.pid, 'SIGKILL');
  const [restart] = await restarted;
  assert.match(restart.reason, /^exited with code \d+$/);
  assert.ok(
    serverLog.records().some((record) => record.msg === 'RTSP camera server exited unexpectedly'),
    'the unexpected exit was logged',
  );

  server = await startRtspCameras({ port: server.port, cameras, logger: serverLog.logger });
  const framesAtRestart = frames.length;
  await waitFor(() => frames.length >= framesAtRestart + 5, 15_000, 'frames from the restarted server');
  assert.ok(reader.stats().restarts >= 1);
  assert.equal(frames.at(-1)!.index, frames.length - 1, 'frame indexes continue across restarts');
});

test('startRtspCameras – stop ends the server', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null || !(await requireRtsp(t))) return;
  const clipPath = await makeClip(t, fixtures);
  const server = await startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath, fps: 25 }, { name: 'b', clipPath, fps: 10 }] });

  assert.deepEqual(Object.keys(server.urls), ['a', 'b']);
  assert.equal(server.urls.b, `rtsp://127.0.0.1:${server.port}/b`);
  await server.stop();
  assert.throws(() => process.kill(server.pid, 0), { code: 'ESRCH' });
  await server.stop();
});

test('startRtspCameras – port in use fails', async (t) => {
  const fixtures = fixturesDir(t);
  if (fixtures === null || !(await requireRtsp(t))) return;
  const clipPath = await makeClip(t, fixtures);
  const first = await startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath, fps: 25 }] });
  t.after(() => first.stop());

  await assert.rejects(
    startRtspCameras({ port: first.port, cameras: [{ name: 'a', clipPath, fps: 25 }] }),
    (error: unknown) =>
      error instanceof VideoError && error.code === 'RTSP_START_FAILED' && /cannot listen/.test(error.message),
  );
});

test('startRtspCameras – invalid cameras rejected', async (t) => {
  const clipPath = makeDummyClip(t);
  const isCode = (code: string) => (error: unknown) => error instanceof VideoError && error.code === code;

  await assert.rejects(startRtspCameras({ port: 0, cameras: [] }), isCode('INVALID_OPTIONS'));
  await assert.rejects(startRtspCameras({ port: 70_000, cameras: [{ name: 'a', clipPath, fps: 25 }] }), isCode('INVALID_OPTIONS'));
  await assert.rejects(startRtspCameras({ port: 0, cameras: [{ name: 'a/b', clipPath, fps: 25 }] }), isCode('INVALID_OPTIONS'));
  await assert.rejects(startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath, fps: 0 }] }), isCode('INVALID_OPTIONS'));
  await assert.rejects(
    startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath, fps: 25 }, { name: 'a', clipPath, fps: 25 }] }),
    isCode('INVALID_OPTIONS'),
  );
  await assert.rejects(
    startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath: `${clipPath}.missing`, fps: 25 }] }),
    isCode('INPUT_NOT_FOUND'),
  );
  await assert.rejects(
    startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath, fps: 25 }], pythonPath: '/nonexistent/python3' }),
    isCode('RTSP_UNAVAILABLE'),
  );
});

test('startRtspCameras – ready timeout kills the server', async (t) => {
  const clipPath = makeDummyClip(t);
  // A stand-in interpreter that never prints the ready line.
  const silentPython = path.join(path.dirname(clipPath), 'silent-python');
  writeFileSync(silentPython, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(silentPython, 0o755);

  const startedAtMs = performance.now();
  await assert.rejects(
    startRtspCameras({ port: 0, cameras: [{ name: 'a', clipPath, fps: 25 }], pythonPath: silentPython, readyTimeoutMs: 300 }),
    (error: unknown) => error instanceof VideoError && error.code === 'RTSP_START_TIMEOUT',
  );
  assert.ok(performance.now() - startedAtMs < 2000);
  const leftover = spawnSync('pgrep', ['-f', silentPython]).stdout.toString().trim();
  assert.equal(leftover, '', 'the silent server was killed');
});
