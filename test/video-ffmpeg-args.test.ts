// Unit tests of the ffmpeg argument builders, plus one run of the reader's arguments through the
// real ffmpeg, so that a filter expression ffmpeg cannot parse fails here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { VideoError } from '../src/video/errors.js';
import {
  buildClipEncodeArgs,
  buildReaderArgs,
  buildSelectFilter,
  clipContainerOf,
} from '../src/video/ffmpeg-args.js';
import { runFfmpeg } from '../src/video/ffmpeg-run.js';

function valueAfter(args: readonly string[], flag: string, occurrence = 0): string | undefined {
  let seen = 0;
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === flag && seen++ === occurrence) return args[i + 1];
  }
  return undefined;
}

function assertVideoError(code: string): (error: unknown) => boolean {
  return (error) => error instanceof VideoError && error.code === code;
}

test('buildReaderArgs – rtsp source over TCP with I/O timeout', () => {
  const args = buildReaderArgs({
    source: { kind: 'rtsp', url: 'rtsp://127.0.0.1:8554/cam1', ioTimeoutMs: 5000 },
    fps: 5,
    width: 640,
    height: 360,
  });
  assert.equal(valueAfter(args, '-rtsp_transport'), 'tcp');
  assert.equal(valueAfter(args, '-timeout'), '5000000');
  assert.equal(valueAfter(args, '-i'), 'rtsp://127.0.0.1:8554/cam1');
  assert.ok(args.indexOf('-rtsp_transport') < args.indexOf('-i'), 'transport is an input option');
  assert.equal(args.at(-1), 'pipe:1');
  assert.equal(valueAfter(args, '-f', 0), 'rawvideo');
  assert.equal(valueAfter(args, '-pix_fmt'), 'rgb24');
  assert.equal(valueAfter(args, '-fps_mode'), 'passthrough');
});

test('buildReaderArgs – single-threaded decoder and encoder', () => {
  const args = buildReaderArgs({ source: { kind: 'rtsp', url: 'rtsp://127.0.0.1/a' }, fps: 5, width: 640, height: 360 });
  const inputIndex = args.indexOf('-i');
  const threadPositions = args.flatMap((arg, index) => (arg === '-threads' ? [index] : []));
  assert.equal(threadPositions.length, 2);
  assert.ok(threadPositions[0]! < inputIndex, 'decoder threads before -i');
  assert.ok(threadPositions[1]! > inputIndex, 'encoder threads after -i');
  assert.equal(valueAfter(args, '-threads', 0), '1');
  assert.equal(valueAfter(args, '-threads', 1), '1');
  assert.ok(!args.includes('nobuffer'), 'nobuffer drops the probed packets');
});

test('buildReaderArgs – select then scale filter', () => {
  const args = buildReaderArgs({ source: { kind: 'rtsp', url: 'rtsp://127.0.0.1/a' }, fps: 5, width: 320, height: 180 });
  const filter = valueAfter(args, '-vf');
  assert.equal(filter, `${buildSelectFilter(5)},scale=320:180`);
  assert.match(filter!, /gte\(t-prev_selected_t,0\.195000\)/);
  assert.doesNotMatch(filter!, /fps=/);
});

test('buildReaderArgs – hwaccel args before input', () => {
  const args = buildReaderArgs({
    source: { kind: 'rtsp', url: 'rtsp://127.0.0.1/a' },
    fps: 5,
    width: 640,
    height: 360,
    hwaccelArgs: ['-hwaccel', 'vaapi'],
  });
  assert.ok(args.indexOf('-hwaccel') >= 0);
  assert.ok(args.indexOf('-hwaccel') < args.indexOf('-i'));
  assert.equal(valueAfter(args, '-hwaccel'), 'vaapi');
});

test('buildReaderArgs – realtime looped mp4 file', () => {
  const args = buildReaderArgs({
    source: { kind: 'file', path: '/clips/a:b.mp4', realtime: true, loop: true },
    fps: 5,
    width: 640,
    height: 360,
  });
  assert.ok(args.includes('-re'));
  assert.equal(valueAfter(args, '-stream_loop'), '-1');
  assert.equal(valueAfter(args, '-i'), 'file:/clips/a:b.mp4');
  assert.equal(valueAfter(args, '-f', 0), 'rawvideo', 'no input format forced for a container');
});

test('buildReaderArgs – looped raw h264 via concat', () => {
  const args = buildReaderArgs({
    source: { kind: 'file', path: '/clips/cam.h264', realtime: true, loop: true, inputFps: 25 },
    fps: 5,
    width: 640,
    height: 360,
  });
  assert.ok(!args.includes('-stream_loop'), 'ffmpeg 5.1 cannot seek in a raw stream');
  assert.equal(valueAfter(args, '-f', 0), 'h264');
  assert.equal(valueAfter(args, '-framerate'), '25');
  const input = valueAfter(args, '-i')!;
  assert.ok(input.startsWith('concat:file:/clips/cam.h264|file:/clips/cam.h264|'));
  assert.equal(input.split('|').length, 100);
});

test('buildReaderArgs – raw h264 once, not realtime', () => {
  const args = buildReaderArgs({
    source: { kind: 'file', path: '/clips/cam.264', realtime: false, loop: false, inputFps: 30 },
    fps: 5,
    width: 640,
    height: 360,
  });
  assert.ok(!args.includes('-re'));
  assert.equal(valueAfter(args, '-i'), 'file:/clips/cam.264');
  assert.equal(valueAfter(args, '-framerate'), '30');
});

test('buildReaderArgs – invalid options rejected', () => {
  const source = { kind: 'rtsp', url: 'rtsp://127.0.0.1/a' } as const;
  assert.throws(() => buildReaderArgs({ source, fps: 0, width: 640, height: 360 }), assertVideoError('INVALID_OPTIONS'));
  assert.throws(() => buildReaderArgs({ source, fps: 5, width: 640.5, height: 360 }), assertVideoError('INVALID_OPTIONS'));
  assert.throws(() => buildReaderArgs({ source, fps: 5, width: 640, height: 0 }), assertVideoError('INVALID_OPTIONS'));
  assert.throws(
    () => buildReaderArgs({ source: { kind: 'rtsp', url: 'http://127.0.0.1/a' }, fps: 5, width: 640, height: 360 }),
    assertVideoError('INVALID_OPTIONS'),
  );
  assert.throws(
    () =>
      buildReaderArgs({
        source: { kind: 'file', path: '/clips/a.h264', realtime: true, loop: false },
        fps: 5,
        width: 640,
        height: 360,
      }),
    /inputFps/,
  );
  assert.throws(
    () =>
      buildReaderArgs({
        source: { kind: 'file', path: '/clips/a|b.h264', realtime: true, loop: true, inputFps: 25 },
        fps: 5,
        width: 640,
        height: 360,
      }),
    assertVideoError('INVALID_OPTIONS'),
  );
});

test('buildReaderArgs – credentials kept out of errors', () => {
  assert.throws(
    () => buildReaderArgs({ source: { kind: 'rtsp', url: 'http://admin:secret@10.0.0.1/a' }, fps: 5, width: 640, height: 360 }),
    (error: unknown) => error instanceof VideoError && !error.message.includes('secret') && error.message.includes('***@'),
  );
});

test('clipContainerOf – container from extension', () => {
  assert.equal(clipContainerOf('/a/b.h264'), 'h264');
  assert.equal(clipContainerOf('/a/b.264'), 'h264');
  assert.equal(clipContainerOf('/a/B.MP4'), 'mp4');
  assert.throws(() => clipContainerOf('/a/b.mkv'), assertVideoError('INVALID_OPTIONS'));
});

test('buildClipEncodeArgs – no B-frames, fixed GOP, Annex-B', () => {
  const args = buildClipEncodeArgs({
    inputArgs: ['-i', 'file:/in.jpg'],
    videoFilter: 'scale=1280:720',
    fps: 25,
    maxFrames: 75,
    outPath: '/out/clip.h264',
  });
  assert.equal(valueAfter(args, '-bf'), '0');
  assert.equal(valueAfter(args, '-g'), '25');
  assert.equal(valueAfter(args, '-keyint_min'), '25');
  assert.equal(valueAfter(args, '-sc_threshold'), '0');
  assert.equal(valueAfter(args, '-profile:v'), 'main');
  assert.equal(valueAfter(args, '-frames:v'), '75');
  assert.equal(valueAfter(args, '-vf'), 'scale=1280:720,format=yuv420p');
  assert.ok(args.includes('-an'));
  assert.equal(args.at(-2), 'h264');
  assert.equal(args.at(-1), 'file:/out/clip.h264');
});

test('buildClipEncodeArgs – mp4 with faststart', () => {
  const args = buildClipEncodeArgs({ inputArgs: ['-i', 'file:/in.avi'], videoFilter: 'fps=10', fps: 10, outPath: '/out/c.mp4' });
  assert.equal(valueAfter(args, '-movflags'), '+faststart');
  assert.equal(args.at(-2), 'mp4');
  assert.equal(valueAfter(args, '-g'), '10');
  assert.ok(!args.includes('-frames:v'));
});

test('reader args – accepted by real ffmpeg', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'video-args-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clipPath = path.join(dir, 'pattern.h264');
  await runFfmpeg(
    buildClipEncodeArgs({
      inputArgs: ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25'],
      videoFilter: 'null',
      fps: 25,
      maxFrames: 50,
      outPath: clipPath,
    }),
  );

  const args = buildReaderArgs({
    source: { kind: 'file', path: clipPath, realtime: false, loop: false, inputFps: 25 },
    fps: 5,
    width: 160,
    height: 120,
  });
  const result = spawnSync('ffmpeg', args, { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, result.stderr.toString());
  const frameBytes = 160 * 120 * 3;
  assert.equal(result.stdout.length % frameBytes, 0);
  // 50 frames at 25 fps are 2 s, which at 5 fps are frames 0, 5, ..., 45.
  assert.equal(result.stdout.length / frameBytes, 10);
});

test('buildSelectFilter – selects after a timestamp reset', () => {
  // 2 s at 25 fps whose timestamps restart from 0 at frame 25, like a camera that reset its clock.
  const source = "testsrc2=size=160x120:rate=25:duration=2,setpts='if(lt(N,25),N,N-25)/25/TB'";
  const result = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', source, '-vf', buildSelectFilter(5), '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  // Five frames from each second. Without the reset rule the second second would give none.
  assert.equal(result.stdout.length / (160 * 120), 10);
});
