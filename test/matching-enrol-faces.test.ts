// Watchlist enrolment and search with the real face models on the real photos of subjects a-d:
// subject a must match no other subject, and the other photos of b, c and d must match their subject.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { CascadeFaceEmbedder } from '../src/matching/cascade-embedder.js';
import { EnrolmentError, enrolSubject } from '../src/matching/enrolment.js';
import { DEFAULT_FACE_THRESHOLD, Watchlist } from '../src/matching/watchlist.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const silent = pino({ level: 'silent' });
let embedder: CascadeFaceEmbedder | null = null;
let facesDir = '';
/** Photo file name to the subjects in it, from the fixtures' labels.json ("unknown" for strangers). */
let labels: Record<string, string[]> = {};

/** Loads the face models once; returns null (and skips the test) when the assets are missing and allowed to be. */
async function loadEmbedder(t: TestContext): Promise<CascadeFaceEmbedder | null> {
  if (embedder !== null) return embedder;
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (models === null || fixtures === null) return null;
  facesDir = path.join(fixtures, 'faces');
  labels = JSON.parse(readFileSync(path.join(facesDir, 'labels.json'), 'utf8')) as Record<string, string[]>;
  embedder = await CascadeFaceEmbedder.load(models, { logger: silent });
  return embedder;
}

after(async () => {
  await embedder?.close();
});

test('enrol faces – subject a matches no other subject', async (t) => {
  const faces = await loadEmbedder(t);
  if (faces === null) return;
  const subjectA = await enrolSubject({ subjectId: 'subject-a', label: 'subject a', photos: [path.join(facesDir, 'subject-a-enrol.png')] }, faces);
  const watchlist = new Watchlist([subjectA]);
  assert.equal(watchlist.threshold, DEFAULT_FACE_THRESHOLD);

  let facesChecked = 0;
  for (const [photo, subjects] of Object.entries(labels)) {
    if (subjects.includes('a')) continue;
    for (const face of await faces.embedFacesInFile(path.join(facesDir, photo))) {
      facesChecked++;
      const best = watchlist.findBest(face.embedding);
      assert.ok(best !== null, `${photo}: the search should return a score`);
      assert.ok(best.score < DEFAULT_FACE_THRESHOLD, `${photo}: a face of another subject scored ${best.score} against subject a`);
      assert.equal(watchlist.match(face.embedding), null);
    }
  }
  assert.ok(facesChecked >= 10, `only ${facesChecked} faces were found in the other photos`);

  const [same] = await faces.embedFacesInFile(path.join(facesDir, 'subject-a-enrol.png'));
  assert.ok(same);
  assert.ok(watchlist.match(same.embedding)!.score > 0.99, 'the enrolment photo itself should match subject a');
});

test('enrol faces – other photos match their subject', async (t) => {
  const faces = await loadEmbedder(t);
  if (faces === null) return;
  const enrolPhotos: Record<string, string> = { b: 'subject-b-enrol.png', c: 'subject-c-1.jpg', d: 'subject-d-1.jpg' };
  const watchlist = new Watchlist();
  for (const [subject, photo] of Object.entries(enrolPhotos)) {
    watchlist.add(await enrolSubject({ subjectId: `subject-${subject}`, label: `subject ${subject}`, photos: [path.join(facesDir, photo)] }, faces));
  }

  for (const [photo, subjects] of Object.entries(labels)) {
    if (Object.values(enrolPhotos).includes(photo) || subjects.includes('a')) continue;
    const matched = new Set<string>();
    for (const face of await faces.embedFacesInFile(path.join(facesDir, photo))) {
      const match = watchlist.match(face.embedding);
      if (match !== null) matched.add(match.subjectId);
    }
    const expected = subjects.filter((subject) => subject !== 'unknown').map((subject) => `subject-${subject}`);
    assert.deepEqual([...matched].sort(), expected.sort(), `${photo} should match exactly ${expected.join(', ')}`);
  }
});

test('enrol faces – rejects a photo without a face', async (t) => {
  const faces = await loadEmbedder(t);
  if (faces === null) return;
  const photo = path.join(path.dirname(facesDir), 'plates', 'double_yellow.jpg');
  await assert.rejects(enrolSubject({ subjectId: 'subject-x', label: 'x', photos: [photo] }, faces), (error: unknown) => {
    assert.ok(error instanceof EnrolmentError);
    assert.equal(error.code, 'ENROL_NO_FACE');
    assert.match(error.message, /double_yellow\.jpg cannot be enrolled because no face was found/);
    return true;
  });
});
