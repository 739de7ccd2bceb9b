// People and vehicle detection with yolox_nano on real frames, and the gating of the plate and face
// stages on what the object stage found.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test, type TestContext } from 'node:test';
import { Cascade } from '../src/vision/cascade.js';
import { decodeImageFile } from '../src/vision/image.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const execFileAsync = promisify(execFile);
let cascadePromise: Promise<Cascade> | null = null;

async function setUp(t: TestContext): Promise<{ cascade: Cascade; fixtures: string } | null> {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return null;
  cascadePromise ??= Cascade.load(models);
  return { cascade: await cascadePromise, fixtures };
}

after(async () => {
  if (cascadePromise) await (await cascadePromise).close();
});

test('object detector – finds people in the street video', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const dir = await mkdtemp(path.join(tmpdir(), 'vision-objects-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const framePath = path.join(dir, 'frame.png');
  const video = path.join(setup.fixtures, 'video', 'pedestrians-overhead.avi');
  await execFileAsync('ffmpeg', ['-v', 'error', '-ss', '10', '-i', video, '-frames:v', '1', framePath]);

  const image = await decodeImageFile(framePath);
  const objects = await setup.cascade.objectDetector.detect(image);
  const people = objects.filter((o) => o.label === 'person');
  t.diagnostic(`people: ${people.length}, all objects: ${objects.map((o) => o.label).join(', ')}`);
  assert.ok(people.length >= 4, `only ${people.length} people found`);
  for (const person of people) {
    const [x1, y1, x2, y2] = person.box;
    assert.ok(x1 >= 0 && y1 >= 0, `box ${person.box} starts outside the frame`);
    assert.ok(x2 <= image.width && y2 <= image.height, `box ${person.box} ends outside the frame`);
    assert.ok(y2 - y1 > x2 - x1, `person box ${person.box} should be taller than wide`);
    assert.ok(person.score >= 0.35, `score ${person.score} is below the threshold`);
    assert.ok(person.score <= 1, `score ${person.score} is above 1`);
  }
});

test('object detector – finds the car on a plate photo', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const image = await decodeImageFile(path.join(setup.fixtures, 'plates', 'single_yellow.jpg'));
  const objects = await setup.cascade.objectDetector.detect(image);
  const vehicles = objects.filter((o) => ['car', 'truck', 'bus'].includes(o.label));
  assert.ok(vehicles.length >= 1, `labels found: ${objects.map((o) => o.label).join(', ')}`);
  const largest = Math.max(...vehicles.map((v) => (v.box[2] - v.box[0]) * (v.box[3] - v.box[1])));
  assert.ok(largest > 0.2 * image.width * image.height, 'the vehicle fills most of this photo');
});

test('cascade – gated stages need their trigger', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const gated = { objects: false, plates: 'gated', faces: 'gated' } as const;

  const portrait = await setup.cascade.analyze(await decodeImageFile(path.join(setup.fixtures, 'faces', 'subject-c-1.jpg')), gated);
  assert.ok(portrait.objects.some((o) => o.label === 'person'), 'gating runs the object stage');
  assert.equal(portrait.timingsMs.plates, 0, 'no vehicle, so no plate stage');
  assert.ok(portrait.timingsMs.faces > 0);
  assert.equal(portrait.faces.length, 1);

  const plate = await setup.cascade.analyze(await decodeImageFile(path.join(setup.fixtures, 'plates', 'single_yellow.jpg')), gated);
  assert.ok(!plate.objects.some((o) => o.label === 'person'), 'this photo shows no person');
  assert.equal(plate.timingsMs.faces, 0, 'no person, so no face stage');
  assert.deepEqual(plate.plates.map((p) => p.text), ['皖K66666']);

  const nothing = await setup.cascade.analyze(await decodeImageFile(path.join(setup.fixtures, 'plates', 'single_yellow.jpg')), {
    objects: false,
    plates: false,
    faces: false,
  });
  assert.deepEqual([nothing.objects.length, nothing.plates.length, nothing.faces.length], [0, 0, 0]);
  assert.deepEqual(nothing.timingsMs, { objects: 0, plates: 0, faces: 0, embeddings: 0 });
});
