// Central store on real SQLite files and on the real PostgreSQL server: migrations, once-only events,
// hits with repeats and decisions, search, fleet status, lists, users, login sessions, audit log and
// retention.
// Every case runs against both backends through the one CentralStore interface.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { FaceEvent, PatrolEvent, PlateEvent } from '../src/protocol/event.js';
import type { HitCandidate } from '../src/central/hit.js';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../src/central/store/sqlite-store.js';
import { PostgresStore, POSTGRES_SCHEMA_VERSION } from '../src/central/store/postgres-store.js';
import { SQLITE_MIGRATIONS } from '../src/central/store/migrations/sqlite.js';
import { StoreError, type CentralStore, type RecordEventInput, type StoreBackend } from '../src/central/store/store.js';
import { POSTGRES_URL, openTestStore, postgresQuery, type TestStore } from './support/central-stores.js';

function plateEvent(seq: number, options: { carId?: string; text?: string; frameMs?: number; clockOffsetMs?: number | null } = {}): PlateEvent {
  const frameMs = options.frameMs ?? 1000;
  return {
    v: 1,
    kind: 'plate',
    carId: options.carId ?? 'car-1',
    seq,
    cameraId: 'cam1',
    frameReceivedAtMs: frameMs,
    analysedAtMs: frameMs + 100,
    committedAtMs: frameMs + 110,
    clockOffsetMs: options.clockOffsetMs ?? null,
    stages: { queueMs: 10, inferenceMs: 90 },
    evidence: [{ kind: 'plate-crop', jpegBase64: '/9j/AAAA' }],
    position: { latitude: 30.66, longitude: 104.06 },
    plate: { text: options.text ?? '川A8H458', format: 'standard', color: 'blue', rows: 1, confidence: 0.9, box: [0, 0, 10, 5], corners: [[0, 0], [10, 0], [10, 5], [0, 5]] },
  };
}

function faceEvent(seq: number, carId = 'car-1'): FaceEvent {
  return {
    v: 1,
    kind: 'face',
    carId,
    seq,
    cameraId: 'cam8',
    frameReceivedAtMs: 1000,
    analysedAtMs: 1050,
    committedAtMs: 1060,
    clockOffsetMs: null,
    stages: { queueMs: 5, inferenceMs: 40 },
    evidence: [],
    face: { box: [0, 0, 10, 12], landmarks: [[1, 1], [2, 1], [1.5, 2], [1, 3], [2, 3]], score: 0.9, quality: 0.8, embedding: Array.from({ length: 128 }, (_, i) => (i === 0 ? 1 : 0)) },
  };
}

const plateCandidate: HitCandidate = { kind: 'plate', matchKey: 'plate:川A8H458', matched: { plate: '川A8H458', readPlate: '川A8H458', reason: 'stolen', priority: 1 }, matchKind: 'exact', score: 1 };
const faceCandidate: HitCandidate = { kind: 'face', matchKey: 'face:subject-a', matched: { subjectId: 'subject-a', listId: 'default', label: 'a' }, matchKind: 'cosine', score: 0.8 };

function record(event: PatrolEvent, overrides: Partial<RecordEventInput> = {}): RecordEventInput {
  return { event, receivedAtMs: 2000, clockOffsetMs: event.clockOffsetMs, candidate: null, hitAtMs: 2001, cooldownMs: 60_000, newHitId: `hit-${event.carId}-${event.seq}`, ...overrides };
}

const change = (atMs = 5000): { by: string; atMs: number; reason: string } => ({ by: 'admin', atMs, reason: 'test' });

async function withStore(backend: StoreBackend, fn: (store: CentralStore, handle: TestStore) => Promise<void>): Promise<void> {
  const handle = await openTestStore(backend);
  try {
    await fn(handle.store, handle);
  } finally {
    await handle.cleanup();
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected StoreError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`store on ${backend}`, () => {
    test(`store (${backend}) – migrates once and reopens`, async () => {
      await withStore(backend, async (store, handle) => {
        const expected = backend === 'sqlite' ? SQLITE_SCHEMA_VERSION : POSTGRES_SCHEMA_VERSION;
        assert.equal(await store.schemaVersion(), expected);
        await store.recordEvent(record(plateEvent(1)));
        const again = await handle.reopen();
        assert.equal(await again.schemaVersion(), expected, 'reopening must not migrate again');
        assert.equal(await again.countEvents('car-1'), 1);
        assert.equal((await again.recordEvent(record(plateEvent(1)))).duplicate, true, 'duplicates are detected across restarts');
      });
    });

    test(`store (${backend}) – stores an event once per car and seq`, async () => {
      await withStore(backend, async (store) => {
        assert.deepEqual(await store.recordEvent(record(plateEvent(1))), { duplicate: false, hit: null, repeat: null });
        assert.deepEqual(await store.recordEvent(record(plateEvent(1))), { duplicate: true });
        assert.equal((await store.recordEvent(record(plateEvent(2)))).duplicate, false);
        assert.equal((await store.recordEvent(record(plateEvent(1, { carId: 'car-2' })))).duplicate, false, 'the same seq from another car is a different event');
        assert.equal(await store.countEvents('car-1'), 2);
        assert.deepEqual(await store.getEvent('car-1', 1), plateEvent(1));
        assert.equal(await store.getEvent('car-1', 99), null);
      });
    });

    test(`store (${backend}) – raises, folds and links hits`, async () => {
      await withStore(backend, async (store) => {
        const first = await store.recordEvent(record(plateEvent(1), { candidate: plateCandidate, hitAtMs: 2005 }));
        assert.equal(first.duplicate, false);
        assert.ok(!first.duplicate && first.hit !== null, 'the first match raises a hit');
        assert.equal(first.hit.hitId, 'hit-car-1-1');
        assert.deepEqual(first.hit.position, { latitude: 30.66, longitude: 104.06 });

        const repeat = await store.recordEvent(record(plateEvent(2), { candidate: plateCandidate, hitAtMs: 9000 }));
        assert.ok(!repeat.duplicate, 'a repeat is not a duplicate');
        assert.equal(repeat.hit, null);
        assert.ok(repeat.repeat !== null, 'a match within the cooldown is a repeat');
        assert.equal(repeat.repeat.hitId, 'hit-car-1-1');
        assert.equal(repeat.repeat.repeatCount, 1);

        const later = await store.recordEvent(record(plateEvent(3), { candidate: plateCandidate, hitAtMs: 9000 + 60_001 }));
        assert.ok(!later.duplicate, 'a later event is not a duplicate');
        assert.ok(later.hit !== null, 'a match after the cooldown is a new hit');

        const stored = await store.getHit('hit-car-1-1');
        assert.ok(stored);
        assert.equal(stored.repeatCount, 1);
        assert.equal(stored.lastSeq, 2);
        assert.equal(stored.lastSeenAtMs, 9000);
        assert.equal(stored.decision, null);
        const { matchKey, repeatCount, lastSeenAtMs, lastSeq, decision, ...asRaised } = stored;
        assert.equal(matchKey, plateCandidate.matchKey);
        assert.deepEqual(asRaised, first.hit, 'the stored hit should read back as it was raised');
        assert.deepEqual((await store.listHitsForCar('car-1')).map((hit) => hit.seq), [1, 3]);

        const events = await store.searchEvents({ carId: 'car-1' });
        assert.deepEqual(events.map((event) => [event.seq, event.hitId]), [[3, 'hit-car-1-3'], [2, null], [1, 'hit-car-1-1']]);
      });
    });

    test(`store (${backend}) – corrects frame times by clock offset`, async () => {
      await withStore(backend, async (store) => {
        await store.recordEvent(record(plateEvent(1, { frameMs: 10_000, clockOffsetMs: 5000 })));
        await store.recordEvent(record(plateEvent(2, { frameMs: 10_000 }), { clockOffsetMs: -2000 }));
        const [first, second] = await store.searchEvents({ carId: 'car-1' });
        assert.equal(first?.frameAtMs, 15_000);
        assert.equal(second?.frameAtMs, 8000, 'the offset passed in is used when the event has none');
        assert.equal(await store.getCarClockOffset('car-1'), 5000, 'only offsets reported by the car are remembered');
        assert.equal(await store.getCarClockOffset('car-unknown'), null);
      });
    });

    test(`store (${backend}) – searches events by plate, car, kind and time`, async () => {
      await withStore(backend, async (store) => {
        await store.recordEvent(record(plateEvent(1, { text: '川A 8H458', frameMs: 1000 })));
        await store.recordEvent(record(plateEvent(2, { text: '川A12345', frameMs: 2000 })));
        await store.recordEvent(record(plateEvent(3, { text: '沪B%1234', frameMs: 3000, carId: 'car-2' })));
        await store.recordEvent(record(faceEvent(4)));

        const seqs = async (query: Parameters<CentralStore['searchEvents']>[0]): Promise<number[]> => (await store.searchEvents(query)).map((event) => event.seq);
        assert.deepEqual(await seqs({ plate: '川A8H458' }), [1], 'plate texts are stored normalised');
        assert.deepEqual(await seqs({ platePrefix: '川A' }), [2, 1]);
        assert.deepEqual(await seqs({ platePrefix: '沪B%' }), [3]);
        assert.deepEqual(await seqs({ platePrefix: '沪B_' }), [], 'LIKE wildcards in a prefix match only literally');
        assert.deepEqual(await seqs({ kind: 'face' }), [4]);
        assert.deepEqual(await seqs({ carId: 'car-2' }), [3]);
        assert.deepEqual(await seqs({ kind: 'plate', fromMs: 1500, toMs: 2500 }), [2]);
        assert.deepEqual(await seqs({ limit: 2 }), [3, 2]);
        const [summary] = await store.searchEvents({ plate: '川A8H458' });
        assert.equal(summary?.plateText, '川A8H458');
        assert.equal(summary?.evidenceCount, 1);
        assert.deepEqual(summary?.position, { latitude: 30.66, longitude: 104.06 });
        await rejectsWith(store.searchEvents({ limit: 0 }), 'STORE_INVALID_QUERY');
      });
    });

    test(`store (${backend}) – records decisions once and keeps negatives`, async () => {
      await withStore(backend, async (store) => {
        await store.recordEvent(record(plateEvent(1), { candidate: plateCandidate }));
        await store.recordEvent(record(faceEvent(2), { candidate: faceCandidate }));

        const confirmed = await store.decideHit({ hitId: 'hit-car-1-1', decision: 'confirmed', reason: 'stopped the car', decidedBy: 'op1', decidedAtMs: 3000 });
        assert.deepEqual(confirmed.decision, { decision: 'confirmed', reason: 'stopped the car', decidedBy: 'op1', decidedAtMs: 3000 });
        await rejectsWith(store.decideHit({ hitId: 'hit-car-1-1', decision: 'dismissed', reason: 'x', decidedBy: 'op2', decidedAtMs: 3100 }), 'STORE_HIT_ALREADY_DECIDED');
        await rejectsWith(store.decideHit({ hitId: 'missing', decision: 'dismissed', reason: 'x', decidedBy: 'op2', decidedAtMs: 3100 }), 'STORE_HIT_NOT_FOUND');

        const versionBefore = await store.listVersion('watchlist');
        const embedding = new Float32Array(128).fill(0.25);
        await store.decideHit({
          hitId: 'hit-car-1-2',
          decision: 'dismissed',
          reason: 'not the subject',
          decidedBy: 'op1',
          decidedAtMs: 3200,
          faceNegative: { subjectId: 'subject-a', hitId: 'hit-car-1-2', embedding, atMs: 3200 },
        });
        const negatives = await store.listFaceNegatives();
        assert.equal(negatives.length, 1);
        assert.deepEqual(negatives[0]?.embedding, embedding);
        assert.equal(negatives[0]?.subjectId, 'subject-a');
        assert.equal(await store.listVersion('watchlist'), versionBefore + 1, 'a negative changes the watchlist');

        assert.deepEqual((await store.searchHits({ decision: 'confirmed' })).map((hit) => hit.hitId), ['hit-car-1-1']);
        assert.deepEqual((await store.searchHits({ decision: 'dismissed' })).map((hit) => hit.hitId), ['hit-car-1-2']);
        assert.deepEqual(await store.searchHits({ decision: 'open' }), []);
      });
    });

    test(`store (${backend}) – searches hits`, async () => {
      await withStore(backend, async (store) => {
        const tolerant: HitCandidate = { ...plateCandidate, matchKind: 'tolerant', matched: { ...plateCandidate.matched, readPlate: '川A8B458' } };
        await store.recordEvent(record(plateEvent(1), { candidate: tolerant, hitAtMs: 1000 }));
        await store.recordEvent(record(faceEvent(2), { candidate: faceCandidate, hitAtMs: 2000 }));
        await store.recordEvent(record(plateEvent(3, { carId: 'car-2' }), { candidate: plateCandidate, hitAtMs: 3000 }));

        const ids = async (query: Parameters<CentralStore['searchHits']>[0]): Promise<string[]> => (await store.searchHits(query)).map((hit) => hit.hitId);
        assert.deepEqual(await ids({}), ['hit-car-2-3', 'hit-car-1-2', 'hit-car-1-1'], 'newest first');
        assert.deepEqual(await ids({ plate: '川A8B458' }), ['hit-car-1-1'], 'the plate as read is searchable');
        assert.deepEqual(await ids({ plate: '川A8H458' }), ['hit-car-2-3', 'hit-car-1-1']);
        assert.deepEqual(await ids({ kind: 'face' }), ['hit-car-1-2']);
        assert.deepEqual(await ids({ subjectId: 'subject-a' }), ['hit-car-1-2']);
        assert.deepEqual(await ids({ carId: 'car-1', fromMs: 1500 }), ['hit-car-1-2']);
        assert.deepEqual(await ids({ toMs: 1000 }), ['hit-car-1-1']);
        assert.equal((await store.getHit('hit-car-1-1'))?.matchKind, 'tolerant');
      });
    });

    test(`store (${backend}) – keeps fleet status per car`, async () => {
      await withStore(backend, async (store) => {
        await store.recordEvent(record(plateEvent(1), { receivedAtMs: 4000 }));
        await store.recordCarStatus(
          {
            v: 1,
            kind: 'status',
            carId: 'car-1',
            sentAtMs: 4400,
            clockOffsetMs: 120,
            outboxBacklog: 7,
            cameras: [
              { cameraId: 'cam1', state: 'up', analysedFps: 4.5 },
              { cameraId: 'cam2', state: 'down', analysedFps: 0 },
            ],
          },
          4500,
        );
        await store.recordCarStatus({ v: 1, kind: 'status', carId: 'car-2', sentAtMs: 1, clockOffsetMs: null, outboxBacklog: 0, cameras: [] }, 3000);

        const [car1, car2] = await store.listFleetStatus();
        assert.equal(car1?.carId, 'car-1');
        assert.equal(car1?.lastContactAtMs, 4500);
        assert.equal(car1?.lastEventAtMs, 4000);
        assert.equal(car1?.lastStatusAtMs, 4500);
        assert.equal(car1?.clockOffsetMs, 120);
        assert.equal(car1?.analysedFps, 4.5);
        assert.equal(car1?.outboxBacklog, 7);
        assert.deepEqual(car1?.cameras.map((camera) => camera.state), ['up', 'down']);
        assert.equal(car2?.lastEventAtMs, null);
        assert.equal(car2?.lastContactAtMs, 3000);
        assert.equal(await store.getCarClockOffset('car-1'), 120);
      });
    });

    test(`store (${backend}) – versions hotlist changes`, async () => {
      await withStore(backend, async (store) => {
        const entry = (plate: string, source: 'config' | 'operator' = 'operator') => ({ plate, reason: 'stolen', priority: 2, expiresAtMs: null, source });
        assert.equal(await store.listVersion('hotlist'), 0);
        assert.equal(await store.upsertHotlistEntries([entry('川A8H458'), { ...entry('京EA5331'), expiresAtMs: 9e12 }], change()), 1);
        assert.equal(await store.removeHotlistEntries(['川A8H458'], change()), 2);
        const entries = await store.listHotlistEntries();
        assert.deepEqual(entries.map((stored) => [stored.plate, stored.expiresAtMs, stored.addedBy]), [['京EA5331', 9e12, 'admin']]);

        await store.replaceConfigHotlist([entry('沪B12345', 'config'), entry('粤B88888', 'config')], change());
        const afterReplace = await store.replaceConfigHotlist([entry('沪B12345', 'config')], change());
        assert.deepEqual((await store.listHotlistEntries()).map((stored) => stored.plate).sort(), ['京EA5331', '沪B12345'].sort(), 'operator entries survive a config reload');
        assert.equal(await store.listVersion('hotlist'), afterReplace);

        const changes = await store.listChangesSince('hotlist', 1, 100);
        assert.deepEqual(changes[0], { list: 'hotlist', version: 2, op: 'remove', key: '川A8H458', atMs: 5000 });
        assert.ok(changes.some((item) => item.op === 'remove' && item.key === '粤B88888'), 'a config entry dropped from the config is removed');
        assert.ok(changes.every((item) => item.version > 1));
      });
    });

    test(`store (${backend}) – stores subjects with their embeddings`, async () => {
      await withStore(backend, async (store) => {
        const embeddings = [Float32Array.from({ length: 128 }, (_, i) => i / 128), Float32Array.from({ length: 128 }, (_, i) => -i / 256)];
        const subject = { subjectId: 'subject-a', listId: 'wanted', label: 'subject a', embeddings, source: 'operator' as const };
        await rejectsWith(store.upsertSubject(subject, change()), 'STORE_LIST_NOT_FOUND');
        await store.upsertFaceList({ listId: 'wanted', threshold: 0.45 }, change());
        await store.upsertSubject(subject, change(6000));
        assert.deepEqual(await store.listFaceLists(), [{ listId: 'wanted', threshold: 0.45 }]);

        const [stored] = await store.listSubjects();
        assert.deepEqual(stored?.embeddings, embeddings);
        assert.equal(stored?.enrolledAtMs, 6000);
        assert.equal(stored?.label, 'subject a');

        await store.removeSubject('subject-a', change());
        assert.deepEqual(await store.listSubjects(), []);
        await rejectsWith(store.removeSubject('subject-a', change()), 'STORE_SUBJECT_NOT_FOUND');
        assert.equal(await store.listVersion('watchlist'), 3, 'the rejected enrolment did not change the version');
      });
    });

    test(`store (${backend}) – manages users`, async () => {
      await withStore(backend, async (store) => {
        await store.createUser({ username: 'op1', role: 'operator', passwordHash: 'hash-1', disabled: false, createdAtMs: 100 });
        await rejectsWith(store.createUser({ username: 'op1', role: 'administrator', passwordHash: 'x', disabled: false, createdAtMs: 101 }), 'STORE_USER_EXISTS');
        const updated = await store.updateUser('op1', { role: 'supervisor', updatedAtMs: 200 });
        assert.deepEqual(updated, { username: 'op1', role: 'supervisor', passwordHash: 'hash-1', disabled: false, createdAtMs: 100, updatedAtMs: 200 });
        assert.equal((await store.updateUser('op1', { disabled: true, updatedAtMs: 300 })).disabled, true);
        assert.equal((await store.getUser('op1'))?.disabled, true);
        assert.equal(await store.getUser('nobody'), null);
        await rejectsWith(store.updateUser('nobody', { disabled: true, updatedAtMs: 1 }), 'STORE_USER_NOT_FOUND');
        assert.equal((await store.listUsers()).length, 1);
      });
    });

    test(`store (${backend}) – keeps login sessions`, async () => {
      await withStore(backend, async (store) => {
        const session = (tokenSha256: string, username: string, createdAtMs: number, lastSeenAtMs: number) =>
          ({ tokenSha256, username, role: 'operator' as const, csrfToken: `csrf-${tokenSha256}`, createdAtMs, lastSeenAtMs });
        await store.saveWebSession(session('a', 'op1', 100, 100));
        await store.saveWebSession(session('b', 'op1', 200, 900));
        await store.saveWebSession(session('c', 'op2', 300, 300));
        await store.saveWebSession({ ...session('c', 'op2', 300, 400), role: 'supervisor' });
        const everything = { lastSeenBeforeMs: 0, createdBeforeMs: 0 };
        assert.deepEqual(await store.listLiveWebSessions(everything), [
          session('a', 'op1', 100, 100),
          session('b', 'op1', 200, 900),
          { ...session('c', 'op2', 300, 400), role: 'supervisor' },
        ], 'oldest first, and saving the same digest again replaces the row');

        // A session last seen exactly at the idle cutoff or created exactly at the age cutoff is live.
        const live = await store.listLiveWebSessions({ lastSeenBeforeMs: 400, createdBeforeMs: 200 });
        assert.deepEqual(live.map((row) => row.tokenSha256), ['b', 'c']);

        await store.updateWebSessionsLastSeen([
          { tokenSha256: 'a', lastSeenAtMs: 1000 },
          { tokenSha256: 'b', lastSeenAtMs: 500 },
          { tokenSha256: 'unknown', lastSeenAtMs: 1000 },
        ]);
        await store.updateWebSessionsLastSeen([]);
        const lastSeen = Object.fromEntries((await store.listLiveWebSessions(everything)).map((row) => [row.tokenSha256, row.lastSeenAtMs]));
        assert.deepEqual(lastSeen, { a: 1000, b: 900, c: 400 }, 'last-seen times only move forward');

        assert.equal(await store.purgeExpiredWebSessions({ lastSeenBeforeMs: 500, createdBeforeMs: 0 }), 1, 'c was idle');
        assert.equal(await store.deleteWebSession('a'), true);
        assert.equal(await store.deleteWebSession('a'), false);
        await store.saveWebSession(session('d', 'op1', 400, 400));
        assert.equal(await store.deleteUserWebSessions('op1'), 2);
        assert.equal(await store.deleteUserWebSessions('op1'), 0);
        assert.deepEqual(await store.listLiveWebSessions(everything), []);
      });
    });

    test(`store (${backend}) – keeps an append-only audit log`, async () => {
      await withStore(backend, async (store, handle) => {
        const first = await store.appendAudit({ atMs: 1000, actor: 'op1', action: 'hit.dismiss', target: 'hit-1', reason: 'not the car', details: { score: 0.5 } });
        await store.appendAudit({ atMs: 2000, actor: 'sup1', action: 'search.hits', target: null, reason: null, details: { plate: '川A8H458' } });
        await store.appendAudit({ atMs: 3000, actor: 'op1', action: 'hit.confirm', target: 'hit-2', reason: 'stopped' });

        assert.deepEqual(first, { id: first.id, atMs: 1000, actor: 'op1', action: 'hit.dismiss', target: 'hit-1', reason: 'not the car', details: { score: 0.5 } });
        assert.deepEqual((await store.listAudit({})).map((entry) => entry.action), ['hit.confirm', 'search.hits', 'hit.dismiss']);
        assert.deepEqual((await store.listAudit({ actor: 'op1' })).map((entry) => entry.target), ['hit-2', 'hit-1']);
        assert.deepEqual((await store.listAudit({ action: 'search.hits' }))[0]?.details, { plate: '川A8H458' });
        assert.deepEqual((await store.listAudit({ fromMs: 1500, toMs: 2500 })).map((entry) => entry.actor), ['sup1']);
        const [newest] = await store.listAudit({ limit: 1 });
        assert.deepEqual((await store.listAudit({ beforeId: newest!.id, limit: 1 })).map((entry) => entry.action), ['search.hits']);

        const tamper = "UPDATE audit_log SET reason = 'changed'";
        if (backend === 'sqlite') {
          const raw = new Database(handle.location);
          try {
            assert.throws(() => raw.prepare(tamper).run(), /append-only/);
          } finally {
            raw.close();
          }
        } else {
          await assert.rejects(postgresQuery(handle.location, tamper), /append-only/);
        }
      });
    });

    test(`store (${backend}) – purges by kind of data`, async () => {
      await withStore(backend, async (store) => {
        await store.recordEvent(record(plateEvent(1), { receivedAtMs: 1000, candidate: plateCandidate, hitAtMs: 1000 }));
        await store.recordEvent(record(plateEvent(2), { receivedAtMs: 5000 }));
        await store.recordEvent(record(faceEvent(3), { receivedAtMs: 1000 }));
        await store.recordEvent(record(plateEvent(4), { receivedAtMs: 9000, candidate: plateCandidate, hitAtMs: 9000, cooldownMs: 0 }));
        await store.appendAudit({ atMs: 1000, actor: 'op1', action: 'hit.confirm', target: 'x', reason: 'r' });
        await store.appendAudit({ atMs: 9000, actor: 'op1', action: 'hit.confirm', target: 'y', reason: 'r' });

        const counts = await store.purge({
          hitsBeforeMs: 2000,
          plateReadsBeforeMs: 2000,
          faceSightingsBeforeMs: null,
          objectEventsBeforeMs: 2000,
          evidenceBeforeMs: 6000,
          auditBeforeMs: 2000,
        });
        assert.deepEqual(counts, { hits: 1, plateReads: 1, faceSightings: 0, objectEvents: 0, evidence: 1, audit: 1 });
        assert.equal(await store.getEvent('car-1', 1), null);
        assert.deepEqual((await store.getEvent('car-1', 2))?.evidence, [], 'evidence is removed from older events that are kept');
        assert.equal((await store.getEvent('car-1', 4))?.evidence.length, 1);
        assert.ok(await store.getEvent('car-1', 3), 'face sightings without a cutoff are kept');
        assert.deepEqual((await store.listHitsForCar('car-1')).map((hit) => hit.seq), [4]);
        assert.deepEqual((await store.listAudit({})).map((entry) => entry.target), ['y']);
        assert.deepEqual(await store.purge({ hitsBeforeMs: null, plateReadsBeforeMs: null, faceSightingsBeforeMs: null, objectEventsBeforeMs: null, evidenceBeforeMs: null, auditBeforeMs: null }), {
          hits: 0, plateReads: 0, faceSightings: 0, objectEvents: 0, evidence: 0, audit: 0,
        });
      });
    });
  });
}

test('store (sqlite) – migrates a version 1 database', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'central-store-v1-'));
  const file = path.join(dir, 'central.sqlite');
  try {
    const raw = new Database(file);
    raw.exec(SQLITE_MIGRATIONS[0]!);
    raw.pragma('user_version = 1');
    raw.prepare("INSERT INTO events (car_id, seq, camera_id, kind, frame_received_at_ms, analysed_at_ms, committed_at_ms, clock_offset_ms, central_received_at_ms, payload_json) VALUES ('car-1', 1, 'cam1', 'plate', 1000, 1100, 1110, 50, 2000, ?)").run(JSON.stringify(plateEvent(1, { clockOffsetMs: 50 })));
    raw.prepare("INSERT INTO hits (id, kind, car_id, camera_id, seq, match_key, matched_json, match_kind, score, evidence_json, frame_received_at_ms, central_received_at_ms, frame_to_hit_ms, queue_ms, inference_ms, outbox_ms, uplink_ms, central_ms, created_at_ms, last_seen_at_ms, last_seq) VALUES ('old-hit', 'plate', 'car-1', 'cam1', 1, 'plate:川A8H458', ?, 'exact', 1, '[]', 1000, 2000, 1001, 10, 90, 10, 890, 1, 2001, 2001, 1)").run(JSON.stringify({ plate: '川A8H458', reason: 'stolen', priority: 1 }));
    raw.close();

    const store = new SqliteStore(file);
    try {
      assert.equal(await store.schemaVersion(), SQLITE_SCHEMA_VERSION);
      const [event] = await store.searchEvents({ plate: '川A8H458' });
      assert.equal(event?.frameAtMs, 1050);
      assert.equal(event?.hitId, 'old-hit');
      assert.equal((await store.searchHits({ plate: '川A8H458' }))[0]?.hitId, 'old-hit');
      assert.equal((await store.getHit('old-hit'))?.position, null);
      assert.equal((await store.listFleetStatus())[0]?.lastEventAtMs, 2000);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store (sqlite) – rejects a database from a newer build', async () => {
  const handle = await openTestStore('sqlite');
  try {
    await handle.store.close();
    const raw = new Database(handle.location);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => new SqliteStore(handle.location), (error: unknown) => error instanceof StoreError && error.code === 'STORE_SCHEMA_TOO_NEW');
  } finally {
    await handle.cleanup();
  }
});

test('store (postgres) – rejects a schema from a newer build', async () => {
  const handle = await openTestStore('postgres');
  try {
    await postgresQuery(handle.location, 'INSERT INTO schema_migrations (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION + 1]);
    await rejectsWith(PostgresStore.open({ url: POSTGRES_URL, schema: handle.location, poolSize: 1 }), 'STORE_SCHEMA_TOO_NEW');
    await rejectsWith(PostgresStore.open({ url: POSTGRES_URL, schema: 'Bad-Name', poolSize: 1 }), 'STORE_OPEN_FAILED');
  } finally {
    await handle.cleanup();
  }
});

test('store (postgres) – folds concurrent matches from two instances', async () => {
  const handle = await openTestStore('postgres');
  try {
    const second = await handle.reopen();
    const stores = [handle.store, second];
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => stores[i % 2]!.recordEvent(record(plateEvent(i + 1), { candidate: plateCandidate, hitAtMs: 2000 + i }))),
    );
    const hits = outcomes.filter((outcome) => !outcome.duplicate && outcome.hit !== null);
    const repeats = outcomes.filter((outcome) => !outcome.duplicate && outcome.repeat !== null);
    assert.equal(hits.length, 1, 'one hit however the instances interleave');
    assert.equal(repeats.length, 39);
    assert.equal((await second.listHitsForCar('car-1'))[0]?.repeatCount, 39);

    const duplicates = await Promise.all(stores.map((store) => store.recordEvent(record(plateEvent(100)))));
    assert.deepEqual(duplicates.map((outcome) => outcome.duplicate).sort(), [false, true], 'one of two simultaneous deliveries is stored');
  } finally {
    await handle.cleanup();
  }
});
