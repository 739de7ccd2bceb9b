// Face detection and embeddings on the labelled fixture photos with the real models: same-subject
// pairs must score above different-subject pairs, and group photos must give every face.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { Cascade } from '../src/vision/cascade.js';
import { cosineSimilarity } from '../src/vision/faces/face-embedder.js';
import { decodeImageFile } from '../src/vision/image.js';
import { fixturesDir, modelsDir } from './support/assets.js';

let cascadePromise: Promise<Cascade> | null = null;

async function setUp(t: TestContext): Promise<{ cascade: Cascade; facesDir: string; labels: Record<string, string[]> } | null> {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return null;
  cascadePromise ??= Cascade.load(models);
  const facesDir = path.join(fixtures, 'faces');
  const labels = JSON.parse(await readFile(path.join(facesDir, 'labels.json'), 'utf8')) as Record<string, string[]>;
  return { cascade: await cascadePromise, facesDir, labels };
}

after(async () => {
  if (cascadePromise) await (await cascadePromise).close();
});

const FACES_ONLY = { objects: false, plates: false, faces: true, embed: true } as const;

test('face embeddings – same subject scores above different', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const singles: Array<{ file: string; subject: string; embedding: Float32Array }> = [];
  for (const [file, subjects] of Object.entries(setup.labels)) {
    if (subjects.length !== 1) continue;
    const analysis = await setup.cascade.analyze(await decodeImageFile(path.join(setup.facesDir, file)), FACES_ONLY);
    assert.equal(analysis.faces.length, 1, `${file} should show exactly one face`);
    singles.push({ file, subject: subjects[0]!, embedding: analysis.faces[0]!.embedding! });
  }
  assert.ok(singles.length >= 6);

  const same: number[] = [];
  const different: number[] = [];
  for (let i = 0; i < singles.length; i++) {
    for (let j = i + 1; j < singles.length; j++) {
      const score = cosineSimilarity(singles[i]!.embedding, singles[j]!.embedding);
      (singles[i]!.subject === singles[j]!.subject ? same : different).push(score);
    }
  }
  const range = (scores: number[]) => `${Math.min(...scores).toFixed(3)} to ${Math.max(...scores).toFixed(3)}`;
  t.diagnostic(`same subject: ${same.length} pairs, ${range(same)}`);
  t.diagnostic(`different subjects: ${different.length} pairs, ${range(different)}`);
  assert.ok(same.length >= 4);
  assert.ok(Math.min(...same) > Math.max(...different), 'a different-subject pair scored above a same-subject pair');
});

test('face detector – every face in group photos', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const groups = Object.entries(setup.labels).filter(([, subjects]) => subjects.length > 1);
  assert.ok(groups.length >= 2);
  for (const [file, subjects] of groups) {
    const image = await decodeImageFile(path.join(setup.facesDir, file));
    const analysis = await setup.cascade.analyze(image, { objects: false, plates: false });
    assert.equal(analysis.faces.length, subjects.length, `${file}: faces found`);
    for (const face of analysis.faces) {
      assert.equal(face.landmarks.length, 5);
      assert.ok(face.score >= 0.7, `${file}: score ${face.score} is below the threshold`);
      assert.ok(face.score <= 1, `${file}: score ${face.score} is above 1`);
      assert.ok(face.quality >= 0, `${file}: quality ${face.quality} is negative`);
      assert.ok(face.quality <= 1, `${file}: quality ${face.quality} is above 1`);
      assert.equal(face.embedding, undefined, 'embeddings should be absent unless requested');
    }
  }
});

test('face embeddings – unit length and reproducible', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const image = await decodeImageFile(path.join(setup.facesDir, 'group-two.jpg'));
  const analysis = await setup.cascade.analyze(image, FACES_ONLY);
  for (const face of analysis.faces) {
    const embedding = face.embedding!;
    assert.equal(embedding.length, 128);
    assert.ok(Math.abs(cosineSimilarity(embedding, embedding) - 1) < 1e-5, 'embedding should be L2-normalised');
    const again = await setup.cascade.embedFace(image, face);
    assert.ok(cosineSimilarity(embedding, again) > 0.9999, 'embedFace should reproduce the analyze embedding');
  }
});

test('face quality – turned face scores lowest', async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  // In this photo two subjects face the camera and a third person is turned away to the side.
  const image = await decodeImageFile(path.join(setup.facesDir, 'group-c-d.jpg'));
  const analysis = await setup.cascade.analyze(image, { objects: false, plates: false });
  const qualities = analysis.faces.map((f) => f.quality).sort((a, b) => a - b);
  t.diagnostic(`qualities: ${qualities.map((q) => q.toFixed(2)).join(', ')}`);
  assert.equal(qualities.length, 3);
  assert.ok(qualities[0]! < qualities[1]! - 0.15, 'the turned face should score clearly lowest');
});
