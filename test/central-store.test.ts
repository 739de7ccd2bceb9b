// Central SQLite store on real database files: schema migration, once-only events, hits and repeats.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { PlateEvent } from '../src/protocol/event.js';
import { buildHit } from '../src/central/hit.js';
import { CentralStore, STORE_SCHEMA_VERSION, StoreError } from '../src/central/store.js';

function tempDatabase(): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'central-store-'));
  return { file: path.join(dir, 'central.sqlite'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function plateEvent(seq: number, carId = 'car-1'): PlateEvent {
  return {
    v: 1,
    kind: 'plate',
    carId,
    seq,
    cameraId: 'cam1',
    frameReceivedAtMs: 1000,
    analysedAtMs: 1100,
    committedAtMs: 1110,
    clockOffsetMs: null,
    stages: { queueMs: 10, inferenceMs: 90 },
    evidence: [],
    plate: { text: '川A8H458', format: 'standard', color: 'blue', rows: 1, confidence: 0.9, box: [0, 0, 10, 5], corners: [[0, 0], [10, 0], [10, 5], [0, 5]] },
  };
}

const candidate = { kind: 'plate' as const, matchKey: 'plate:川A8H458', matched: { plate: '川A8H458', reason: 'stolen', priority: 1 }, matchKind: 'exact' as const, score: 1 };

test('store – creates the schema with user_version and WAL', () => {
  const { file, cleanup } = tempDatabase();
  try {
    const store = new CentralStore(file);
    assert.equal(store.schemaVersion, STORE_SCHEMA_VERSION);
    store.close();

    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const tables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
    assert.deepEqual(tables, ['events', 'hits']);
    raw.close();

    const reopened = new CentralStore(file);
    assert.equal(reopened.schemaVersion, STORE_SCHEMA_VERSION, 'reopening must not migrate again');
    reopened.close();
  } finally {
    cleanup();
  }
});

test('store – rejects a database from a newer build', () => {
  const { file, cleanup } = tempDatabase();
  try {
    const raw = new Database(file);
    raw.pragma(`user_version = ${STORE_SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => new CentralStore(file), (error: unknown) => error instanceof StoreError && error.code === 'STORE_SCHEMA_TOO_NEW');
  } finally {
    cleanup();
  }
});

test('store – stores an event once per car and seq', () => {
  const { file, cleanup } = tempDatabase();
  try {
    const store = new CentralStore(file);
    assert.equal(store.insertEvent(plateEvent(1), 2000), true);
    assert.equal(store.insertEvent(plateEvent(1), 2500), false, 'the same (car, seq) is a duplicate');
    assert.equal(store.insertEvent(plateEvent(2), 2600), true);
    assert.equal(store.insertEvent(plateEvent(1, 'car-2'), 2700), true, 'the same seq from another car is a different event');
    assert.equal(store.countEvents('car-1'), 2);
    assert.deepEqual(store.getEvent('car-1', 1), plateEvent(1));
    store.close();

    const reopened = new CentralStore(file);
    assert.equal(reopened.insertEvent(plateEvent(2), 3000), false, 'duplicates are detected across restarts');
    reopened.close();
  } finally {
    cleanup();
  }
});

test('store – transaction rolls back event and hit together', () => {
  const store = new CentralStore(':memory:');
  assert.throws(() =>
    store.transaction(() => {
      store.insertEvent(plateEvent(1), 2000);
      store.insertHit(buildHit('hit-1', plateEvent(1), candidate, { centralReceivedAtMs: 2000, hitAtMs: 2001 }), candidate.matchKey);
      throw new Error('simulated failure after both inserts');
    }),
  );
  assert.equal(store.countEvents('car-1'), 0);
  assert.equal(store.getHit('hit-1'), null);
  store.close();
});

test('store – finds recent hits and records repeats', () => {
  const store = new CentralStore(':memory:');
  const hit = buildHit('hit-1', plateEvent(1), candidate, { centralReceivedAtMs: 2000, hitAtMs: 2005 });
  store.insertHit(hit, candidate.matchKey);

  assert.equal(store.findRecentHit('car-1', candidate.matchKey, 2006), null, 'last seen before the window start');
  assert.equal(store.findRecentHit('car-2', candidate.matchKey, 0), null, 'another car');
  assert.equal(store.findRecentHit('car-1', 'plate:OTHER', 0), null, 'another entry');
  assert.equal(store.findRecentHit('car-1', candidate.matchKey, 2005)?.hitId, 'hit-1');

  assert.equal(store.recordRepeat('hit-1', 9000, 4), 1);
  assert.equal(store.recordRepeat('hit-1', 8000, 5), 2, 'an out-of-order repeat still counts');
  const stored = store.getHit('hit-1');
  assert.ok(stored);
  assert.equal(stored.repeatCount, 2);
  assert.equal(stored.lastSeenAtMs, 9000, 'last seen never moves backwards');
  assert.equal(stored.lastSeq, 5);
  const { matchKey, repeatCount, lastSeenAtMs, lastSeq, ...storedHit } = stored;
  assert.equal(matchKey, candidate.matchKey);
  assert.deepEqual(storedHit, hit, 'the stored hit should read back as it was raised');
  assert.throws(() => store.recordRepeat('missing', 1, 1), (error: unknown) => error instanceof StoreError && error.code === 'STORE_HIT_NOT_FOUND');
  store.close();
});
