// Face index: per-list thresholds and negatives on constructed vectors, then on the real face models
// and photos: a dismissed stranger stops matching while the subject still does, and enrolment from
// uploaded photos reports why each unusable photo was rejected.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { CascadeFaceEmbedder } from '../src/matching/cascade-embedder.js';
import { EnrolmentError, enrolFromPhotos } from '../src/matching/enrolment.js';
import { FaceIndex } from '../src/matching/face-index.js';
import { WatchlistError } from '../src/matching/watchlist.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const DIMENSION = 128;

/** Unit vector along `axis`, tilted towards `tiltAxis` by `tilt`, so cosines are easy to compute by hand. */
function axisVector(axis: number, tilt = 0, tiltAxis = (axis + 1) % DIMENSION): Float32Array {
  const vector = new Float32Array(DIMENSION);
  vector[axis] = 1;
  vector[tiltAxis] = tilt;
  return vector;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(normA * normB);
}

test('face index – applies each list threshold', () => {
  const index = new FaceIndex({
    lists: [
      { listId: 'strict', threshold: 0.9 },
      { listId: 'loose', threshold: 0.5 },
    ],
    subjects: [
      { subjectId: 'subject-a', listId: 'strict', label: 'a', embeddings: [axisVector(0)] },
      { subjectId: 'subject-b', listId: 'loose', label: 'b', embeddings: [axisVector(10), axisVector(20)] },
    ],
  });
  assert.equal(index.size, 2);
  assert.equal(index.embeddingCount, 3);

  // cos = 1 / sqrt(1 + 1) = 0.707: below the strict list's 0.9, above the loose list's 0.5.
  assert.equal(index.search(axisVector(0, 1)).match, null);
  const loose = index.search(axisVector(20, 1)).match;
  assert.equal(loose?.subjectId, 'subject-b');
  assert.equal(loose?.listId, 'loose');
  assert.ok(Math.abs(loose!.score - Math.SQRT1_2) < 1e-6, `score ${loose?.score}`);
  assert.equal(index.search(axisVector(0, 0.2)).match?.subjectId, 'subject-a');
  assert.equal(index.search(new Float32Array(DIMENSION)).match, null, 'an all-zero query matches nothing');
});

test('face index – negatives suppress the same stranger', () => {
  const subject = axisVector(0);
  // The stranger resembles the subject (cos 0.6) and resembles their own earlier sighting far more.
  const strangerEarlier = Float32Array.from(axisVector(0), (value, i) => (i === 5 ? 1.333 : value));
  const strangerAgain = Float32Array.from(strangerEarlier, (value, i) => (i === 6 ? 0.3 : value));
  const lists = [{ listId: 'default', threshold: 0.5 }];
  const subjects = [{ subjectId: 'subject-a', listId: 'default', label: 'a', embeddings: [subject] }];

  const before = new FaceIndex({ lists, subjects });
  assert.equal(before.search(strangerAgain).match?.subjectId, 'subject-a', 'without the negative the stranger is a false hit');

  const after = new FaceIndex({ lists, subjects, negatives: [{ subjectId: 'subject-a', embedding: strangerEarlier }] });
  const result = after.search(strangerAgain);
  assert.equal(result.match, null);
  assert.deepEqual(result.suppressed.map((match) => match.subjectId), ['subject-a']);
  assert.equal(after.search(axisVector(0, 0.1, 7)).match?.subjectId, 'subject-a', 'the subject still matches');
});

test('face index – falls back to the next subject', () => {
  const index = new FaceIndex({
    lists: [{ listId: 'default', threshold: 0.3 }],
    subjects: [
      { subjectId: 'subject-a', listId: 'default', label: 'a', embeddings: [axisVector(0)] },
      { subjectId: 'subject-b', listId: 'default', label: 'b', embeddings: [axisVector(1)] },
    ],
    negatives: [{ subjectId: 'subject-a', embedding: axisVector(0, 0.9) }],
  });
  const query = axisVector(0, 0.8);
  assert.ok(cosine(query, axisVector(0)) > cosine(query, axisVector(1)));
  const result = index.search(query);
  assert.equal(result.match?.subjectId, 'subject-b');
  assert.deepEqual(result.suppressed.map((match) => match.subjectId), ['subject-a']);
});

test('face index – rejects inconsistent input', () => {
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof WatchlistError);
      return error.code;
    }
    return 'no error';
  };
  const lists = [{ listId: 'default', threshold: 0.4 }];
  const subject = { subjectId: 'subject-a', listId: 'default', label: 'a', embeddings: [axisVector(0)] };
  assert.equal(codeOf(() => new FaceIndex({ lists: [], subjects: [subject] })), 'WATCHLIST_UNKNOWN_LIST');
  assert.equal(codeOf(() => new FaceIndex({ lists, subjects: [subject, subject] })), 'WATCHLIST_DUPLICATE_SUBJECT');
  assert.equal(codeOf(() => new FaceIndex({ lists: [{ listId: 'default', threshold: 2 }], subjects: [] })), 'WATCHLIST_INVALID_THRESHOLD');
  assert.equal(codeOf(() => new FaceIndex({ lists, subjects: [{ ...subject, embeddings: [] }] })), 'WATCHLIST_EMPTY_SUBJECT');
  assert.equal(codeOf(() => new FaceIndex({ lists, subjects: [subject] }).search(new Float32Array(64).fill(1))), 'WATCHLIST_DIMENSION_MISMATCH');
});

let embedder: CascadeFaceEmbedder | null = null;
after(async () => {
  await embedder?.close();
});

async function loadEmbedder(t: TestContext): Promise<{ embedder: CascadeFaceEmbedder; fixtures: string } | null> {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (models === null || fixtures === null) return null;
  embedder ??= await CascadeFaceEmbedder.load(models, { logger: pino({ level: 'silent' }) });
  return { embedder, fixtures };
}

async function onlyFace(faces: CascadeFaceEmbedder, file: string): Promise<Float32Array> {
  const found = await faces.embedFacesInFile(file);
  assert.equal(found.length, 1, `${path.basename(file)} should contain one face`);
  return found[0]!.embedding;
}

test('face index – dismissed real stranger stays dismissed', async (t) => {
  const loaded = await loadEmbedder(t);
  if (loaded === null) return;
  const photo = (name: string): string => path.join(loaded.fixtures, 'faces', name);
  const c1 = await onlyFace(loaded.embedder, photo('subject-c-1.jpg'));
  const c2 = await onlyFace(loaded.embedder, photo('subject-c-2.jpg'));
  const d1 = await onlyFace(loaded.embedder, photo('subject-d-1.jpg'));
  const d2 = await onlyFace(loaded.embedder, photo('subject-d-2.jpg'));

  // A list loose enough that subject d is taken for subject c: the false hit an operator dismisses.
  const threshold = Math.min(cosine(d1, c1), cosine(d2, c1)) - 0.01;
  const lists = [{ listId: 'loose', threshold }];
  const subjects = [{ subjectId: 'subject-c', listId: 'loose', label: 'c', embeddings: [c1] }];
  assert.ok(cosine(c2, c1) > threshold, 'subject c should match its own enrolment');
  assert.equal(new FaceIndex({ lists, subjects }).search(d2).match?.subjectId, 'subject-c', 'before dismissal d is a false hit');

  const index = new FaceIndex({ lists, subjects, negatives: [{ subjectId: 'subject-c', embedding: d1 }] });
  assert.equal(index.search(d2).match, null, "subject d's second photo no longer matches subject c");
  assert.deepEqual(index.search(d2).suppressed.map((match) => match.subjectId), ['subject-c']);
  assert.equal(index.search(c2).match?.subjectId, 'subject-c', 'subject c still matches');
});

test('enrol photos – reports each rejected photo', async (t) => {
  const loaded = await loadEmbedder(t);
  if (loaded === null) return;
  const facesDir = path.join(loaded.fixtures, 'faces');
  const plateLabels = JSON.parse(readFileSync(path.join(loaded.fixtures, 'plates', 'labels.json'), 'utf8')) as Record<string, unknown>;
  const platePhoto = path.join(loaded.fixtures, 'plates', Object.keys(plateLabels)[0]!);

  const report = await enrolFromPhotos(
    [
      { name: 'enrol.png', encoded: readFileSync(path.join(facesDir, 'subject-b-enrol.png')) },
      { name: 'second.jpg', filePath: path.join(facesDir, 'subject-b-2.jpg') },
      { name: 'not-an-image.jpg', encoded: Buffer.from('plain text, not an image') },
      { name: 'vehicle.jpg', encoded: readFileSync(platePhoto) },
    ],
    loaded.embedder,
  );
  assert.equal(report.embeddings.length, 2);
  assert.deepEqual(report.photos.map((photo) => [photo.name, photo.ok]), [['enrol.png', true], ['second.jpg', true], ['not-an-image.jpg', false], ['vehicle.jpg', false]]);
  const failed = report.photos[2]!;
  assert.ok(!failed.ok && failed.code === 'ENROL_PHOTO_FAILED', 'undecodable bytes are a failed photo');
  assert.ok(cosine(report.embeddings[0]!, report.embeddings[1]!) > 0.4, 'both photos show subject b');

  await assert.rejects(
    enrolFromPhotos([{ name: 'vehicle.jpg', filePath: platePhoto }], loaded.embedder, { minQuality: 0.99 }),
    (error: unknown) => error instanceof EnrolmentError && error.code === 'ENROL_NO_USABLE_PHOTO' && /vehicle\.jpg: /.test(error.message),
  );
});
