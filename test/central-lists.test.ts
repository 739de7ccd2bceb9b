// Lists at run time: ed25519-signed snapshots and deltas (format, verification, application), their
// publication to a car over the real Mosquitto, and audited list changes shared by two instances.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import {
  applyListMessage,
  embeddingsFromBase64,
  listKeyId,
  signListPayload,
  verifyListMessage,
  type HotlistItem,
  type ListPayload,
  type ListState,
} from '../src/protocol/lists.js';
import { listDeltaTopic, listSnapshotTopic } from '../src/protocol/topics.js';
import { ListChangeError, ListManager } from '../src/central/lists/list-manager.js';
import { ListPublisher } from '../src/central/lists/list-publisher.js';
import { EnrolmentError, type EmbeddedFace, type FaceEmbedder } from '../src/matching/enrolment.js';
import { waitUntil } from './support/central-load.js';
import { openTestStore } from './support/central-stores.js';
import { BROKER_URL } from './support/central-instance.js';

const silent = pino({ level: 'silent' });

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject; trusted: Map<string, KeyObject> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, trusted: new Map([[listKeyId(publicKey), publicKey]]) };
}

const snapshot: ListPayload = {
  v: 1,
  list: 'hotlist',
  kind: 'snapshot',
  version: 3,
  issuedAtMs: 1000,
  items: [{ key: '川A8H458', item: { plate: '川A8H458', reason: 'stolen vehicle', priority: 1, expiresAtMs: null } }],
};

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

test('lists – verify accepts only trusted signatures', () => {
  const { privateKey, trusted } = keyPair();
  const signed = signListPayload(snapshot, privateKey);

  const ok = verifyListMessage(encode(signed), trusted);
  assert.ok(ok.ok, 'a message signed with a trusted key verifies');
  assert.deepEqual(ok.payload, snapshot);

  const tampered = { ...signed, payload: signed.payload.replace('"priority":1', '"priority":5') };
  const tamperedResult = verifyListMessage(encode(tampered), trusted);
  assert.ok(!tamperedResult.ok && tamperedResult.code === 'LIST_BAD_SIGNATURE', 'a changed payload fails the signature');

  const other = keyPair();
  const foreign = verifyListMessage(encode(signListPayload(snapshot, other.privateKey)), trusted);
  assert.ok(!foreign.ok && foreign.code === 'LIST_UNKNOWN_KEY', 'an untrusted key is rejected');

  const notJson = verifyListMessage(Buffer.from('{'), trusted);
  assert.ok(!notJson.ok && notJson.code === 'LIST_NOT_JSON');
  const invalid = verifyListMessage(encode(signListPayload({ ...snapshot, version: -1 } as ListPayload, privateKey)), trusted);
  assert.ok(!invalid.ok && invalid.code === 'LIST_INVALID', 'a signed but malformed payload is rejected');
});

test('lists – deltas apply only on their base', () => {
  const empty: ListState<HotlistItem> = { version: 0, items: new Map() };
  const loaded = applyListMessage(empty, snapshot);
  assert.ok(loaded.applied);
  assert.equal(loaded.state.version, 3);

  const item = { plate: '京EA5331', reason: 'unpaid tolls', priority: 3, expiresAtMs: null };
  const delta: ListPayload = { v: 1, list: 'hotlist', kind: 'delta', version: 4, baseVersion: 3, issuedAtMs: 2000, upserts: [{ key: '京EA5331', item }], removals: ['川A8H458'] };
  const updated = applyListMessage(loaded.state, delta);
  assert.ok(updated.applied);
  assert.deepEqual([...updated.state.items.keys()], ['京EA5331']);

  assert.deepEqual(applyListMessage(empty, delta), { applied: false, reason: 'base-mismatch', state: empty });
  assert.equal(applyListMessage(updated.state, delta).applied, false, 'a delta is applied once');
  assert.equal(applyListMessage(updated.state, snapshot).applied, false, 'an older snapshot is ignored');
});

test('lists – a car receives signed snapshot and delta', async () => {
  const database = await openTestStore('sqlite');
  const { privateKey, trusted } = keyPair();
  const central = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const car = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const lists = new ListManager({ store: database.store, logger: silent });
  let state: ListState<HotlistItem> = { version: -1, items: new Map() };
  const applied: string[] = [];
  try {
    await lists.syncConfig({ hotlist: [{ plate: '川A8H458', reason: 'stolen vehicle', priority: 1 }], faceLists: [], subjects: [] });
    await lists.attachPublisher(new ListPublisher(central, privateKey, silent));
    const version = await database.store.listVersion('hotlist');

    car.on('message', (_topic, payload) => {
      const verified = verifyListMessage(payload, trusted);
      // Retained messages from other runs are signed with other keys and are skipped here.
      if (!verified.ok || verified.payload.list !== 'hotlist') return;
      const result = applyListMessage(state, verified.payload);
      if (result.applied) applied.push(verified.payload.kind);
      state = result.state;
    });
    await car.subscribeAsync([listSnapshotTopic('hotlist'), listDeltaTopic('hotlist')], { qos: 1 });
    await waitUntil(() => state.version === version, 'the retained snapshot');
    assert.deepEqual([...state.items.keys()], ['川A8H458']);

    await lists.upsertHotlistEntries([{ plate: '京 EA-5331', reason: 'unpaid tolls', priority: 3 }], 'admin', 'court order 17');
    await waitUntil(() => state.version === version + 1, 'the delta');
    assert.deepEqual([...state.items.keys()].sort(), ['京EA5331', '川A8H458'].sort());
    assert.deepEqual(state.items.get('京EA5331'), { plate: '京EA5331', reason: 'unpaid tolls', priority: 3, expiresAtMs: null });
    assert.ok(applied.includes('delta'), 'the car applied a delta, not only snapshots');
  } finally {
    // Empty retained messages remove this run's lists from the broker.
    await central.publishAsync(listSnapshotTopic('hotlist'), '', { qos: 1, retain: true });
    await central.publishAsync(listDeltaTopic('hotlist'), '', { qos: 1, retain: true });
    await central.publishAsync(listSnapshotTopic('watchlist'), '', { qos: 1, retain: true });
    await car.endAsync();
    await central.endAsync();
    await database.cleanup();
  }
});

class ScriptedEmbedder implements FaceEmbedder {
  constructor(private readonly facesByName: Record<string, EmbeddedFace[]>) {}
  async embedFacesInFile(filePath: string): Promise<EmbeddedFace[]> {
    return this.facesByName[filePath] ?? [];
  }
  async embedFacesInImage(encoded: Uint8Array): Promise<EmbeddedFace[]> {
    return this.facesByName[Buffer.from(encoded).toString()] ?? [];
  }
}

test('lists – audited changes reach a second instance', async () => {
  const database = await openTestStore('postgres');
  const secondStore = await database.reopen();
  const embedding = Float32Array.from({ length: 128 }, (_, i) => Math.cos(i));
  const embedder = new ScriptedEmbedder({ good: [{ embedding, quality: 0.9, box: [0, 0, 100, 120] }], blurry: [{ embedding, quality: 0.1, box: [0, 0, 100, 120] }] });
  const first = new ListManager({ store: database.store, logger: silent, embedder, clock: () => 5000 });
  const second = new ListManager({ store: secondStore, logger: silent });
  try {
    await first.syncConfig({ hotlist: [], faceLists: [{ listId: 'default', threshold: 0.4 }], subjects: [] });
    await second.refresh();
    assert.equal(second.hotlist.size, 0);

    await assert.rejects(first.upsertHotlistEntries([{ plate: '川A8H458', reason: 'stolen', priority: 1 }], 'admin', ''), (error: unknown) => error instanceof ListChangeError && error.code === 'LIST_REASON_MISSING');
    await assert.rejects(first.upsertHotlistEntries([{ plate: '川A8H458', reason: 'stolen', priority: 9 }], 'admin', 'x'), (error: unknown) => error instanceof ListChangeError && error.code === 'LIST_INVALID_ENTRY');

    const report = await first.importHotlistCsv('plate,reason,priority\n川A8H458,stolen vehicle,1\n京EA5331,tolls\n', 'admin', 'weekly list');
    assert.equal(report.entries.length, 1);
    assert.deepEqual(report.rejected.map((line) => line.line), [3]);

    const enrolment = await first.enrolSubject(
      { subjectId: 'subject-a', listId: 'default', label: 'subject a', photos: [{ name: 'a.jpg', encoded: Buffer.from('good') }, { name: 'b.jpg', encoded: Buffer.from('blurry') }] },
      'admin',
      'warrant 42',
    );
    assert.deepEqual(enrolment.photos.map((photo) => photo.ok), [true, false]);
    await assert.rejects(
      first.enrolSubject({ subjectId: 'subject-b', listId: 'default', label: 'subject b', photos: [{ name: 'c.jpg', encoded: Buffer.from('blurry') }] }, 'admin', 'warrant 43'),
      (error: unknown) => error instanceof EnrolmentError && error.code === 'ENROL_NO_USABLE_PHOTO',
    );

    assert.equal(await second.refresh(), true, 'the second instance sees the changes');
    assert.equal(second.hotlist.lookup('川A8H458', 0)?.kind, 'exact');
    assert.equal(second.faceIndex.size, 1);
    assert.equal(second.faceIndex.search(embedding).match?.subjectId, 'subject-a');

    const audit = await database.store.listAudit({});
    assert.deepEqual(audit.map((entry) => [entry.action, entry.actor, entry.reason]).reverse(), [
      ['hotlist.import', 'admin', 'weekly list'],
      ['watchlist.enrol', 'admin', 'warrant 42'],
    ]);
    assert.deepEqual(audit[0]?.details, { listId: 'default', photosUsed: 1, photosRejected: ['b.jpg'] });

    await first.removeSubject('subject-a', 'admin', 'warrant withdrawn');
    await first.removeHotlistEntry('川A8H458', 'admin', 'car recovered');
    await assert.rejects(first.removeHotlistEntry('川A8H458', 'admin', 'again'), (error: unknown) => error instanceof ListChangeError && error.code === 'LIST_ENTRY_NOT_FOUND');
    await second.refresh();
    assert.equal(second.faceIndex.size, 0);
    assert.equal(second.hotlist.size, 0);

    const stored = (await database.store.listSubjects())[0];
    assert.equal(stored, undefined);
    assert.deepEqual(embeddingsFromBase64(Buffer.from(embedding.buffer).toString('base64'), 128)[0], embedding);
  } finally {
    await database.cleanup();
  }
});
