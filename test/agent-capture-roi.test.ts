// The per-camera region of interest: analysis sees only that part of the frame, results come back
// in full-frame pixels, and the config rejects a region whose corners are out of order.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseAgentConfig } from '../agent/config.js';
import { FrameAnalyser } from '../agent/inference/frame-analyser.js';
import { roiPixels } from '../agent/pipeline/frame-pipeline.js';
import { decodeImageFile } from '../src/vision/image.js';
import type { BoxXyxyPx } from '../src/vision/types.js';
import { fixturesDir, modelsDir } from './support/assets.js';

test('roi – plate found inside, boxes in frame pixels', { timeout: 60_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const analyser = await FrameAnalyser.load(models, { logger: pino({ level: 'silent' }) });
  t.after(() => analyser.close());
  const image = await decodeImageFile(path.join(fixtures, 'plates', 'double_yellow.jpg'));

  const whole = await analyser.analyse({ image, analyses: ['plates'], roiPx: null });
  assert.equal(whole.plates.length, 1);
  const plateBox = whole.plates[0]!.box;
  const [plateX, plateY] = [(plateBox[0] + plateBox[2]) / 2, (plateBox[1] + plateBox[3]) / 2];
  const vehicle = whole.objects.find((o) => o.label !== 'person' && o.box[0] < plateX && plateX < o.box[2] && o.box[1] < plateY && plateY < o.box[3])!;
  const [x1, y1, x2, y2] = vehicle.box;
  const around: BoxXyxyPx = [Math.max(0, x1 - 20), Math.max(0, y1 - 20), Math.min(image.width, x2 + 20), Math.min(image.height, y2 + 20)];

  const inside = await analyser.analyse({ image, analyses: ['plates'], roiPx: around });
  assert.equal(inside.plates.length, 1);
  assert.equal(inside.plates[0]!.text, whole.plates[0]!.text);
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(inside.plates[0]!.box[i]! - whole.plates[0]!.box[i]!) < 6, `plate box side ${i}: ${inside.plates[0]!.box[i]} against ${whole.plates[0]!.box[i]} in frame pixels`);
  }
  assert.ok(inside.objects.every((o) => o.box[0] >= around[0] - 1 && o.box[1] >= around[1] - 1), 'object boxes are shifted back into frame pixels');

  const plateTop = whole.plates[0]!.box[1];
  const above = await analyser.analyse({ image, analyses: ['plates'], roiPx: [0, 0, image.width, Math.floor(plateTop * 0.5)] });
  assert.equal(above.plates.length, 0, 'a region above the plate reads no plate');
});

test('roi – fractions become frame pixels', () => {
  assert.deepEqual(roiPixels([0.25, 0.5, 0.75, 1], { width: 1280, height: 720 }), [320, 360, 960, 720]);
  assert.equal(roiPixels(undefined, { width: 1280, height: 720 }), null);
});

test('roi – config rejects corners out of order', () => {
  const config = (roi: unknown) => ({ carId: 'car-1', broker: { url: 'mqtt://127.0.0.1:1883' }, cameras: [{ id: 'front', source: 'rtsp://127.0.0.1/front', roi }] });
  assert.deepEqual(parseAgentConfig(config([0.1, 0.2, 0.9, 0.8]), 'test').cameras[0]!.roi, [0.1, 0.2, 0.9, 0.8]);
  assert.throws(() => parseAgentConfig(config([0.9, 0.2, 0.1, 0.8]), 'test'), /cameras\.0\.roi: should be \[x1, y1, x2, y2\] with x1 < x2 and y1 < y2/);
  assert.throws(() => parseAgentConfig(config([0, 0, 1.5, 1]), 'test'), /cameras\.0\.roi\.2/);
});
