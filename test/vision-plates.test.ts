// Plate recognition on the labelled fixture photos with the real models: exact reads, the format
// filter against truck lettering and hazard signs, colours and rows, and the reader on crops.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { measurePlateAccuracy, type PlateAccuracy } from '../src/vision/accuracy.js';
import { Cascade } from '../src/vision/cascade.js';
import { decodeImageFile } from '../src/vision/image.js';
import { classifyPlate } from '../src/vision/plates/format.js';
import { fixturesDir, modelsDir } from './support/assets.js';

let cascadePromise: Promise<Cascade> | null = null;
let accuracyPromise: Promise<PlateAccuracy> | null = null;

function assets(t: TestContext): { models: string; fixtures: string } | null {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  return models && fixtures ? { models, fixtures } : null;
}

function loadCascade(models: string): Promise<Cascade> {
  cascadePromise ??= Cascade.load(models);
  return cascadePromise;
}

async function plateAccuracy(models: string, fixtures: string): Promise<PlateAccuracy> {
  accuracyPromise ??= loadCascade(models).then((cascade) => measurePlateAccuracy(cascade, fixtures));
  return accuracyPromise;
}

after(async () => {
  if (cascadePromise) await (await cascadePromise).close();
});

test('plate cascade – exact reads of legible plates', async (t) => {
  const found = assets(t);
  if (!found) return;
  const accuracy = await plateAccuracy(found.models, found.fixtures);
  t.diagnostic(`exact reads: ${accuracy.exactReads} of ${accuracy.legiblePlates} fully legible plates`);
  const missed = accuracy.photos.flatMap((p) => p.missed.map((label) => `${p.file}: ${label}`));
  t.diagnostic(`missed: ${missed.join('; ')}`);
  assert.equal(accuracy.legiblePlates, 29);
  assert.ok(accuracy.exactReads >= 24, `only ${accuracy.exactReads} of 29 read exactly`);
});

test('plate cascade – no plate on plate-free photos', async (t) => {
  const found = assets(t);
  if (!found) return;
  const accuracy = await plateAccuracy(found.models, found.fixtures);
  const plateFree = accuracy.photos.filter((p) => p.labels.length === 0);
  assert.ok(plateFree.length >= 2, 'fixtures should contain photos labelled []');
  for (const photo of plateFree) {
    assert.deepEqual(photo.reads, [], `${photo.file} has truck lettering or a hazard sign, not a plate`);
  }
  const rejected = accuracy.photos.reduce((sum, p) => sum + p.rejectedReads, 0);
  t.diagnostic(`reads rejected by the format check: ${rejected}`);
  assert.ok(rejected > 0, 'the lettering on plate-free photos should be detected and then rejected');
});

test('plate cascade – every reported plate fits GA 36', async (t) => {
  const found = assets(t);
  if (!found) return;
  const accuracy = await plateAccuracy(found.models, found.fixtures);
  const reads = accuracy.photos.flatMap((p) => p.reads);
  assert.ok(reads.length >= 29);
  for (const text of reads) assert.notEqual(classifyPlate(text), null, `${text} fits no plate format`);
});

test('plate cascade – reports colour, rows and geometry', async (t) => {
  const found = assets(t);
  if (!found) return;
  const cascade = await loadCascade(found.models);
  const cases = [
    { file: 'double_yellow.jpg', text: '京EA5331', color: 'yellow', rows: 2, format: 'civil' },
    { file: 'h-tmpC90A.png', text: '粤BD01366', color: 'green', rows: 1, format: 'new-energy' },
    { file: 'h-17.jpg', text: '使198476', color: 'black', rows: 1, format: 'embassy' },
    { file: 'single_yellow.jpg', text: '皖K66666', color: 'yellow', rows: 1, format: 'civil' },
  ];
  for (const expected of cases) {
    const image = await decodeImageFile(path.join(found.fixtures, 'plates', expected.file));
    const analysis = await cascade.analyze(image, { objects: false, faces: false });
    const plate = analysis.plates.find((p) => p.text === expected.text);
    assert.ok(plate, `${expected.file}: ${expected.text} not read`);
    assert.equal(plate.color, expected.color, `${expected.file} colour`);
    assert.equal(plate.rows, expected.rows, `${expected.file} rows`);
    assert.equal(plate.format, expected.format, `${expected.file} format`);
    assert.ok(plate.confidence > 0.5, `${expected.file}: confidence ${plate.confidence} is low`);
    assert.ok(plate.confidence <= 1, `${expected.file}: confidence ${plate.confidence} is above 1`);
    const [x1, y1, x2, y2] = plate.box;
    assert.ok(x1 >= 0 && y1 >= 0, `${expected.file}: box ${plate.box} starts outside the image`);
    assert.ok(x2 <= image.width && y2 <= image.height, `${expected.file}: box ${plate.box} ends outside the image`);
    assert.ok(x2 > x1 && y2 > y1, `${expected.file}: box ${plate.box} is empty`);
    for (const [x, y] of plate.corners) {
      // Corners and box come from separate regression outputs, so they may differ by a few pixels.
      assert.ok(x >= x1 - 5 && x <= x2 + 5, `${expected.file}: corner x ${x} is outside the box`);
      assert.ok(y >= y1 - 5 && y <= y2 + 5, `${expected.file}: corner y ${y} is outside the box`);
    }
  }
});

test('plate reader – reads the rectified crops', async (t) => {
  const found = assets(t);
  if (!found) return;
  const cascade = await loadCascade(found.models);
  const cropsDir = path.join(found.fixtures, 'plates', 'crops');
  const files = (await readdir(cropsDir)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  assert.equal(files.length, 4);
  const crops = await Promise.all(files.map((f) => decodeImageFile(path.join(cropsDir, f))));
  const readings = await cascade.plateReader.read(crops);
  files.forEach((file, index) => {
    const expected = path.parse(file).name.normalize('NFC');
    assert.equal(readings[index]!.text, expected, `${file} read as ${readings[index]!.text}`);
  });
});
