// Face watchlist: 1:N cosine search and threshold, and enrolment through a scripted FaceEmbedder
// (the real-model enrolment test is matching-enrol-faces.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Watchlist, WatchlistError, DEFAULT_FACE_THRESHOLD } from '../src/matching/watchlist.js';
import { EnrolmentError, enrolSubject, selectEnrolmentFace, type EmbeddedFace, type FaceEmbedder } from '../src/matching/enrolment.js';

const DIMENSION = 128;

/** Returns a deterministic pseudo-random vector (not normalised) for a seed. */
function seededVector(seed: number): Float32Array {
  const vector = new Float32Array(DIMENSION);
  let state = seed >>> 0;
  for (let i = 0; i < DIMENSION; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    vector[i] = state / 2 ** 32 - 0.5;
  }
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

/** Mixes `base` with `noise` so the result has roughly the requested similarity to base. */
function blend(base: Float32Array, noise: Float32Array, weight: number): Float32Array {
  return base.map((value, i) => value * weight + noise[i]! * (1 - weight));
}

test('watchlist – returns best subject and its cosine score', () => {
  const a1 = seededVector(1);
  const a2 = seededVector(2);
  const b1 = seededVector(3);
  const watchlist = new Watchlist([
    { subjectId: 'subject-a', label: 'a', embeddings: [a1, a2] },
    { subjectId: 'subject-b', label: 'b', embeddings: [b1] },
  ]);

  const query = blend(a2, seededVector(99), 0.7);
  const expected = Math.max(cosine(query, a1), cosine(query, a2));
  const best = watchlist.findBest(query);
  assert.ok(best);
  assert.equal(best.subjectId, 'subject-a');
  assert.ok(Math.abs(best.score - expected) < 1e-5, `score ${best.score} should be ${expected}`);
  assert.ok(best.score > cosine(query, b1));
});

test('watchlist – scale of the query does not change the score', () => {
  const watchlist = new Watchlist([{ subjectId: 'subject-a', label: 'a', embeddings: [seededVector(1)] }]);
  const query = blend(seededVector(1), seededVector(5), 0.6);
  const scaled = query.map((value) => value * 17.3);
  assert.ok(Math.abs(watchlist.findBest(query)!.score - watchlist.findBest(scaled)!.score) < 1e-6);
});

test('watchlist – applies the threshold', () => {
  assert.equal(new Watchlist().threshold, DEFAULT_FACE_THRESHOLD);
  const base = seededVector(1);
  const query = blend(base, seededVector(7), 0.5);
  const score = cosine(query, base);

  const below = new Watchlist([{ subjectId: 'subject-a', label: 'a', embeddings: [base] }], { threshold: score + 0.01 });
  assert.equal(below.match(query), null);
  assert.equal(below.findBest(query)?.subjectId, 'subject-a', 'findBest ignores the threshold');

  const at = new Watchlist([{ subjectId: 'subject-a', label: 'a', embeddings: [base] }], { threshold: score - 0.001 });
  assert.equal(at.match(query)?.subjectId, 'subject-a');
});

test('watchlist – unrelated faces stay below 0.40', () => {
  const watchlist = new Watchlist(Array.from({ length: 50 }, (_, i) => ({ subjectId: `s${i}`, label: `s${i}`, embeddings: [seededVector(i + 1)] })));
  for (let seed = 1000; seed < 1020; seed++) {
    assert.equal(watchlist.match(seededVector(seed)), null, `random vector ${seed} should match no subject`);
  }
});

test('watchlist – empty list and zero query find nothing', () => {
  assert.equal(new Watchlist().findBest(seededVector(1)), null);
  const watchlist = new Watchlist([{ subjectId: 'subject-a', label: 'a', embeddings: [seededVector(1)] }]);
  assert.equal(watchlist.findBest(new Float32Array(DIMENSION)), null);
});

test('watchlist – rejects invalid subjects and queries', () => {
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof WatchlistError);
      return error.code;
    }
    return 'no error';
  };
  const subjectA = { subjectId: 'subject-a', label: 'a', embeddings: [seededVector(1)] };
  assert.equal(codeOf(() => new Watchlist([subjectA, { ...subjectA }])), 'WATCHLIST_DUPLICATE_SUBJECT');
  assert.equal(codeOf(() => new Watchlist([{ ...subjectA, embeddings: [] }])), 'WATCHLIST_EMPTY_SUBJECT');
  assert.equal(codeOf(() => new Watchlist([{ ...subjectA, embeddings: [new Float32Array(DIMENSION)] }])), 'WATCHLIST_ZERO_EMBEDDING');
  assert.equal(codeOf(() => new Watchlist([subjectA], { threshold: 1.5 })), 'WATCHLIST_INVALID_THRESHOLD');
  assert.equal(codeOf(() => new Watchlist([subjectA]).findBest(new Float32Array(512).fill(0.1))), 'WATCHLIST_DIMENSION_MISMATCH');
  assert.equal(codeOf(() => new Watchlist([subjectA, { subjectId: 'subject-b', label: 'b', embeddings: [new Float32Array(64).fill(1)] }])), 'WATCHLIST_DIMENSION_MISMATCH');
});

function face(width: number, quality: number, seed: number): EmbeddedFace {
  return { box: [10, 10, 10 + width, 10 + width * 1.2], quality, embedding: seededVector(seed) };
}

class ScriptedEmbedder implements FaceEmbedder {
  readonly requested: string[] = [];
  constructor(private readonly facesByPath: Record<string, EmbeddedFace[] | Error>) {}
  async embedFacesInFile(filePath: string): Promise<EmbeddedFace[]> {
    this.requested.push(filePath);
    const result = this.facesByPath[filePath];
    if (result === undefined) throw new Error(`no script for ${filePath}`);
    if (result instanceof Error) throw result;
    return result;
  }
}

test('enrolment – picks the largest good-quality face', () => {
  const faces = [face(40, 0.9, 1), face(120, 0.3, 2), face(80, 0.7, 3), face(60, 0.95, 4)];
  const selection = selectEnrolmentFace(faces, 0.5);
  assert.ok(selection.ok);
  assert.equal(selection.face, faces[2], 'the 120 px face is too poor, so the 80 px face wins');
});

test('enrolment – rejects photos without a usable face', () => {
  const none = selectEnrolmentFace([], 0.5);
  assert.ok(!none.ok);
  assert.equal(none.code, 'ENROL_NO_FACE');
  const poor = selectEnrolmentFace([face(100, 0.2, 1), face(50, 0.35, 2)], 0.5);
  assert.ok(!poor.ok);
  assert.equal(poor.code, 'ENROL_LOW_QUALITY');
  assert.match(poor.reason, /best quality 0\.35 is below the minimum 0\.5/);
});

test('enrolment – enrols one embedding per photo', async () => {
  const embedder = new ScriptedEmbedder({ 'a-1.jpg': [face(90, 0.9, 11)], 'a-2.jpg': [face(30, 0.9, 12), face(70, 0.8, 13)] });
  const subject = await enrolSubject({ subjectId: 'subject-a', label: 'a', photos: ['a-1.jpg', 'a-2.jpg'] }, embedder);
  assert.deepEqual(embedder.requested, ['a-1.jpg', 'a-2.jpg']);
  assert.equal(subject.embeddings.length, 2);
  assert.deepEqual(subject.embeddings[0], seededVector(11));
  assert.deepEqual(subject.embeddings[1], seededVector(13));
});

test('enrolment – rejects the subject with the reason', async () => {
  const embedder = new ScriptedEmbedder({ 'good.jpg': [face(90, 0.9, 1)], 'empty.jpg': [], 'broken.jpg': new Error('cannot decode broken.jpg as an image') });
  await assert.rejects(enrolSubject({ subjectId: 'subject-a', label: 'a', photos: ['good.jpg', 'empty.jpg'] }, embedder), (error: unknown) => {
    assert.ok(error instanceof EnrolmentError);
    assert.equal(error.code, 'ENROL_NO_FACE');
    assert.match(error.message, /subject subject-a: photo empty\.jpg cannot be enrolled because no face was found/);
    return true;
  });
  await assert.rejects(enrolSubject({ subjectId: 'subject-a', label: 'a', photos: ['broken.jpg'] }, embedder), { code: 'ENROL_PHOTO_FAILED' });
  await assert.rejects(enrolSubject({ subjectId: 'subject-a', label: 'a', photos: [] }, embedder), { code: 'ENROL_NO_PHOTOS' });
  await assert.rejects(enrolSubject({ subjectId: 'subject-a', label: 'a', photos: ['good.jpg'] }, embedder, { minQuality: 0.95 }), { code: 'ENROL_LOW_QUALITY' });
});
