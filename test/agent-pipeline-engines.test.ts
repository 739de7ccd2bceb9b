// The inference engines on real photos: worker threads return exactly what the main thread returns,
// a missing model folder fails at start with the vision error code, and a closed engine rejects work.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { resolveWorkerCount } from '../agent/inference/create-engine.js';
import { MainThreadEngine } from '../agent/inference/engine.js';
import { FrameAnalyser } from '../agent/inference/frame-analyser.js';
import { InferenceWorkerError, WorkerEngine } from '../agent/inference/worker-engine.js';
import { VisionError } from '../src/vision/errors.js';
import { decodeImageFile } from '../src/vision/image.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const logger = pino({ level: 'silent' });

test('engines – workers match main thread', { timeout: 120_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const main = new MainThreadEngine(await FrameAnalyser.load(models, { logger }));
  const workers = await WorkerEngine.start({ modelsDir: models, workers: 2, threads: 1, logger });
  t.after(async () => {
    await main.close();
    await workers.close();
  });
  assert.equal(workers.slots, 2);

  for (const photo of ['plates/double_yellow.jpg', 'faces/group-two.jpg']) {
    const image = await decodeImageFile(path.join(fixtures, photo));
    const request = { image, analyses: ['plates', 'faces'] as const, roiPx: null };
    const expected = await main.analyse(request);
    const [first, second] = await Promise.all([workers.analyse(request), workers.analyse(request)]);

    for (const actual of [first, second]) {
      assert.deepEqual(actual.objects, expected.objects, `${photo}: objects`);
      assert.deepEqual(actual.plates, expected.plates, `${photo}: plates`);
      assert.deepEqual(actual.faces.map((face) => Array.from(face.embedding)), expected.faces.map((face) => Array.from(face.embedding)), `${photo}: embeddings`);
    }
    assert.ok(expected.objects.length > 0, `${photo}: the photo has objects`);
    assert.equal(image.data.byteLength, image.width * image.height * 3, `${photo}: the caller keeps its pixels after the worker took a copy`);
  }
});

test('engines – missing models fail at start', { timeout: 60_000 }, async () => {
  await assert.rejects(
    WorkerEngine.start({ modelsDir: '/nonexistent/models', workers: 1, threads: 1, logger }),
    (error: Error) => error instanceof VisionError && error.code === 'MODEL_MISSING' && error.message.includes('/nonexistent/models'),
  );
});

test('engines – closed engine rejects frames', { timeout: 60_000 }, async (t) => {
  const models = modelsDir(t);
  if (!models) return;
  const workers = await WorkerEngine.start({ modelsDir: models, workers: 1, threads: 1, logger });
  await workers.close();
  const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
  await assert.rejects(workers.analyse({ image, analyses: ['faces'], roiPx: null }), (error: Error) => error instanceof InferenceWorkerError && error.code === 'ENGINE_CLOSED');
});

test('engines – auto uses one worker per core', () => {
  assert.equal(resolveWorkerCount('auto', 2), 2);
  assert.equal(resolveWorkerCount('auto', 32), 8, 'auto is capped');
  assert.equal(resolveWorkerCount(0, 4), 0, '0 keeps the models on the main thread');
  assert.equal(resolveWorkerCount(3, 2), 3);
});
