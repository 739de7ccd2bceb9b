// Loading errors of the model sessions: a missing file, a file that is not ONNX, and a valid ONNX
// file that is the wrong model must each give a typed error that names the file and the fix.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Cascade } from '../src/vision/cascade.js';
import { VisionError } from '../src/vision/errors.js';
import { ModelSession } from '../src/vision/session.js';
import { modelsDir } from './support/assets.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vision-session-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function isVisionError(code: string, fileName: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof VisionError, `expected VisionError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, new RegExp(fileName.replace('.', '\\.')));
    assert.match(error.message, /npm run models:install/);
    return true;
  };
}

test('model session – missing file gives MODEL_MISSING', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(Cascade.load(dir), isVisionError('MODEL_MISSING', 'yolox_nano.onnx'));
});

test('model session – non-ONNX file gives MODEL_CORRUPT', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'plate_detect.onnx'), 'this is not a model');
  const signature = { inputs: ['input'], outputs: ['output'] };
  await assert.rejects(ModelSession.load(dir, 'plate_detect', signature), isVisionError('MODEL_CORRUPT', 'plate_detect.onnx'));
});

test('model session – wrong model gives MODEL_CORRUPT', async (t) => {
  const models = modelsDir(t);
  if (!models) return;
  const dir = await tempDir(t);
  await symlink(path.join(models, 'mobilefacenet.onnx'), path.join(dir, 'yolox_nano.onnx'));
  const signature = { inputs: ['images'], outputs: ['output'] };
  await assert.rejects(ModelSession.load(dir, 'yolox_nano', signature), (error: unknown) => {
    isVisionError('MODEL_CORRUPT', 'yolox_nano.onnx')(error);
    assert.match((error as Error).message, /missing input images/);
    return true;
  });
});

test('model session – records run latency', async (t) => {
  const models = modelsDir(t);
  if (!models) return;
  const cascade = await Cascade.load(models);
  t.after(() => cascade.close());
  const session = cascade.plateReader.session;
  assert.ok(Number.isNaN(session.lastRunMs));
  const reportedModels: string[] = [];
  const remove = cascade.addRunListener((model, durationMs) => {
    assert.ok(durationMs > 0);
    reportedModels.push(model);
  });
  const plate = { width: 168, height: 48, data: new Uint8Array(168 * 48 * 3).fill(128) };
  await cascade.plateReader.read([plate, plate]);
  remove();
  await cascade.plateReader.read([plate]);
  assert.ok(session.lastRunMs > 0);
  assert.deepEqual(reportedModels, ['plate_rec_color']);
});
