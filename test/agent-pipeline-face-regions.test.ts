// Faces searched in people's head areas on real frames of the two-speaker clip: the default cost
// model picks the head areas, which find the faces the whole-frame search finds and embed them
// alike. The cost measurement itself runs on the real detector.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { chooseFaceSearch, fitFaceDetectorCost, headRegion } from '../agent/inference/face-regions.js';
import { FrameAnalyser, measureFaceDetectorCost } from '../agent/inference/frame-analyser.js';
import { cosineSimilarity } from '../src/vision/faces/face-embedder.js';
import { iouXyxy } from '../src/vision/postprocess/nms.js';
import type { RgbImage } from '../src/vision/image.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const WIDTH = 640;
const HEIGHT = 360;

/** Decodes one frame a second from the start of a video, as raw RGB. */
function videoFrames(file: string, count: number): RgbImage[] {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `fps=1,scale=${WIDTH}:${HEIGHT}`, '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, result.stderr?.toString());
  const frameBytes = WIDTH * HEIGHT * 3;
  return Array.from({ length: result.stdout.length / frameBytes }, (_, i) => ({ width: WIDTH, height: HEIGHT, data: new Uint8Array(result.stdout.subarray(i * frameBytes, (i + 1) * frameBytes)) }));
}

test('face regions – head areas find the same faces', { timeout: 120_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const measured = await FrameAnalyser.load(models, { logger: pino({ level: 'silent' }) });
  t.after(() => measured.close());
  const cost = await measureFaceDetectorCost(measured.cascade);
  assert.ok(cost.msPerMegapixel > 0, `measured cost per megapixel should be positive, got ${cost.msPerMegapixel}`);
  const whole = new FrameAnalyser(measured.cascade, { fixedMs: 1e9, msPerMegapixel: 0 });

  let framesWithRegions = 0;
  let wholeFaces = 0;
  for (const image of videoFrames(path.join(fixtures, 'video', 'stage-two-speakers.mp4'), 6)) {
    const request = { image, analyses: ['faces'] as const, roiPx: null };
    const byRegions = await measured.analyse(request);
    const byWhole = await whole.analyse(request);
    assert.notEqual(byWhole.faceSearch, 'regions');
    if (byRegions.faceSearch !== 'regions') continue;
    framesWithRegions += 1;

    // Faces of usable quality are the ones sightings keep; every one must be found by both searches.
    for (const face of byWhole.faces.filter((f) => f.quality >= 0.3)) {
      wholeFaces += 1;
      const twin = byRegions.faces.find((f) => iouXyxy(f.box, face.box) > 0.5);
      assert.ok(twin, `a face at ${face.box.map(Math.round).join(',')} found in the whole frame should be found in a head area`);
      // Landmarks found in a head area differ by a pixel or so from the whole-frame ones, which moves
      // the embedding a little: 0.87-0.95 here, while different people score below 0.2.
      assert.ok(cosineSimilarity(twin.embedding, face.embedding) > 0.8, 'both searches embed the same face alike');

    }
  }
  assert.ok(framesWithRegions >= 4, `head areas should be cheaper in most frames, chosen in ${framesWithRegions} of 6`);
  assert.ok(wholeFaces >= 3, `the clip should show usable faces, found ${wholeFaces}`);
});

test('face regions – cost model picks cheaper search', () => {
  const cost = fitFaceDetectorCost({ pixels: 64 * 64, ms: 0.5 }, { pixels: 320 * 320, ms: 4.5 });
  assert.ok(Math.abs(cost.msPerMegapixel - 4 / ((320 * 320 - 64 * 64) / 1e6)) < 1e-9);
  assert.ok(cost.fixedMs > 0 && cost.fixedMs < 0.5);

  const frame = { width: 640, height: 360 };
  assert.equal(chooseFaceSearch(frame, [[300, 50, 360, 200]], cost).mode, 'regions', 'one small person: the head area is cheaper');
  const crowd = Array.from({ length: 12 }, (_, i): [number, number, number, number] => [i * 50, 0, i * 50 + 200, 360]);
  assert.equal(chooseFaceSearch(frame, crowd, cost).mode, 'whole', 'twelve large people: the whole frame is cheaper');
  assert.equal(chooseFaceSearch(frame, [], cost).mode, 'whole');
});

test('face regions – head area stays inside frame', () => {
  const region = headRegion([600, -10, 700, 300], 640, 360);
  assert.deepEqual(region, [590, 0, 640, 207]);
  const tiny = headRegion([10, 10, 12, 12], 640, 360);
  assert.ok(tiny[2] - tiny[0] >= 32 && tiny[3] - tiny[1] >= 32, 'a tiny person still gets a 32 px area');
});
