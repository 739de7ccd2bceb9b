// Lists on the car: signed snapshots and deltas verified with ed25519, applied in order, kept on
// disk and matched on the car with the real face models. Delivery runs through a private Mosquitto.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { CarLists, type ListOutcome } from '../agent/lists/car-lists.js';
import { CarMatcher, type MatchableRead } from '../agent/lists/car-matcher.js';
import { subscribeToLists } from '../agent/lists/list-subscription.js';
import { loadTrustedKeys } from '../agent/lists/trusted-keys.js';
import { ListPublisher } from '../src/central/lists/list-publisher.js';
import { CascadeFaceEmbedder } from '../src/matching/cascade-embedder.js';
import { DEFAULT_FACE_THRESHOLD } from '../src/matching/watchlist.js';
import type { CarMatch } from '../src/protocol/event.js';
import { embeddingsToBase64, listKeyId, signListPayload, type HotlistItem, type ListPayload, type WatchlistItem } from '../src/protocol/lists.js';
import { listDeltaTopic, listSnapshotTopic } from '../src/protocol/topics.js';
import { fixturesDir, modelsDir } from './support/assets.js';
import { startMosquitto } from './support/mosquitto.js';

const silent = pino({ level: 'silent' });
const central = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const trusted = new Map<string, KeyObject>([[listKeyId(central.publicKey), central.publicKey]]);

function hotlistItem(plate: string, priority = 1, expiresAtMs: number | null = null): { key: string; item: HotlistItem } {
  return { key: plate, item: { plate, reason: 'stolen vehicle', priority, expiresAtMs } };
}

function snapshot(version: number, items: Array<{ key: string; item: HotlistItem }>): ListPayload {
  return { v: 1, list: 'hotlist', kind: 'snapshot', version, issuedAtMs: 1, items } as ListPayload;
}

function delta(version: number, baseVersion: number, upserts: Array<{ key: string; item: HotlistItem }>, removals: string[] = []): ListPayload {
  return { v: 1, list: 'hotlist', kind: 'delta', version, baseVersion, issuedAtMs: 1, upserts, removals } as ListPayload;
}

function signed(payload: ListPayload, key: KeyObject = central.privateKey): Buffer {
  return Buffer.from(JSON.stringify(signListPayload(payload, key)));
}

function newLists(): { lists: CarLists; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'car-lists-'));
  return { lists: new CarLists({ dir, trustedKeys: trusted, logger: silent }), dir };
}

function plateRead(text: string, confidence = 0.9): MatchableRead {
  return { kind: 'plate', cameraId: 'front', trackId: 't1', plate: { text, confidence } };
}

function errorCode(outcome: ListOutcome): string | null {
  return outcome.status === 'rejected' ? outcome.error.code : null;
}

test('car lists – signed snapshot applied and matched', () => {
  const { lists, dir } = newLists();
  const outcome = lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(3, [hotlistItem('川A8H458'), hotlistItem('京EA5331', 3)])));
  assert.deepEqual(outcome, { status: 'applied', list: 'hotlist', version: 3 });
  assert.equal(lists.versions().hotlist, 3);

  const hits: CarMatch[] = [];
  const matcher = new CarMatcher({ lists, logger: silent, onHit: (_kind, match) => hits.push(match) });
  assert.deepEqual(matcher.onCandidate(plateRead('川A8H458')), { matchKey: 'plate:川A8H458', score: 1, listVersion: 3 });
  assert.deepEqual(matcher.onCandidate(plateRead('京EA5331')), { matchKey: 'plate:京EA5331', score: 1, listVersion: 3 });
  assert.equal(matcher.onCandidate(plateRead('沪C12345')), null);
  assert.equal(hits.length, 2);
  rmSync(dir, { recursive: true });
});

test('car lists – tolerant read and expiry', () => {
  const { lists, dir } = newLists();
  const nowMs = 1_000_000;
  lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(1, [hotlistItem('川A8H458'), hotlistItem('粤B88888', 2, nowMs - 1)])));
  const matcher = new CarMatcher({ lists, logger: silent, nowMs: () => nowMs });
  // 8 and B are a usual OCR confusion, so the read still hits, with its own confidence as score.
  assert.deepEqual(matcher.onCandidate(plateRead('川A8H45B', 0.8)), { matchKey: 'plate:川A8H458', score: 0.8, listVersion: 1 });
  assert.equal(matcher.onCandidate(plateRead('粤B88888')), null, 'an expired entry never matches');
  rmSync(dir, { recursive: true });
});

test('car lists – tampered, unsigned, untrusted rejected', () => {
  const { lists, dir } = newLists();
  lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(1, [hotlistItem('川A8H458')])));

  const tampered = signListPayload(snapshot(2, [hotlistItem('川A8H458')]), central.privateKey);
  tampered.payload = tampered.payload.replace('川A8H458', '川A0H000');
  const cases: Array<[string, Buffer, string, RegExp]> = [
    ['tampered', Buffer.from(JSON.stringify(tampered)), 'LIST_BAD_SIGNATURE', /signature does not verify/],
    ['unsigned', Buffer.from(JSON.stringify(snapshot(2, []))), 'LIST_UNSIGNED', /carries no signature/],
    ['untrusted key', signed(snapshot(2, []), stranger.privateKey), 'LIST_UNKNOWN_KEY', /not trusted/],
    ['not JSON', Buffer.from('{{'), 'LIST_NOT_JSON', /could not be parsed/],
  ];
  for (const [name, message, code, text] of cases) {
    const outcome = lists.receive(listSnapshotTopic('hotlist'), message);
    assert.equal(errorCode(outcome), code, name);
    assert.match(outcome.status === 'rejected' ? outcome.error.message : '', text, name);
  }
  assert.equal(lists.versions().hotlist, 1, 'the copy stays at version 1');
  assert.notEqual(lists.hotlist.lookup('川A8H458'), null, 'and keeps matching');
  rmSync(dir, { recursive: true });
});

test('car lists – older, repeated and out-of-order messages', () => {
  const { lists, dir } = newLists();
  lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(5, [hotlistItem('川A8H458')])));

  const older = lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(4, [])));
  assert.equal(errorCode(older), 'LIST_STALE');
  assert.match(older.status === 'rejected' ? older.error.message : '', /version 4 is older than the car's copy \(version 5\)/);
  assert.equal(lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(5, []))).status, 'unchanged');
  assert.equal(errorCode(lists.receive(listDeltaTopic('hotlist'), signed(delta(7, 6, [])))), 'LIST_BASE_MISMATCH');
  assert.equal(errorCode(lists.receive(listSnapshotTopic('watchlist'), signed(snapshot(9, [])))), 'LIST_WRONG_TOPIC', 'a hotlist on the watchlist topic');
  assert.equal(errorCode(lists.receive(listDeltaTopic('hotlist'), signed(snapshot(9, [])))), 'LIST_WRONG_TOPIC', 'a snapshot on the delta topic');

  const applied = lists.receive(listDeltaTopic('hotlist'), signed(delta(6, 5, [hotlistItem('京EA5331')], ['川A8H458'])));
  assert.equal(applied.status, 'applied');
  assert.equal(lists.hotlist.lookup('川A8H458'), null, 'removed by the delta');
  assert.notEqual(lists.hotlist.lookup('京EA5331'), null, 'added by the delta');
  rmSync(dir, { recursive: true });
});

test('car lists – kept on disk and verified on load', () => {
  const { lists, dir } = newLists();
  lists.receive(listSnapshotTopic('hotlist'), signed(snapshot(2, [hotlistItem('川A8H458')])));
  lists.receive(listDeltaTopic('hotlist'), signed(delta(3, 2, [hotlistItem('京EA5331')])));

  const reloaded = new CarLists({ dir, trustedKeys: trusted, logger: silent });
  reloaded.load();
  assert.equal(reloaded.versions().hotlist, 3);
  assert.notEqual(reloaded.hotlist.lookup('京EA5331'), null);

  // An entry changed on disk breaks the signature, so the car starts without the list.
  const file = path.join(dir, 'hotlist.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace('京EA5331', '京EA5332'));
  const tampered = new CarLists({ dir, trustedKeys: trusted, logger: silent });
  tampered.load();
  assert.equal(tampered.versions().hotlist, -1);
  assert.equal(tampered.hotlist.lookup('京EA5332'), null);
  rmSync(dir, { recursive: true });
});

test('trusted keys – PEM file loaded, wrong key type rejected', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'car-keys-'));
  const good = path.join(dir, 'central.pem');
  writeFileSync(good, central.publicKey.export({ type: 'spki', format: 'pem' }));
  assert.deepEqual([...loadTrustedKeys([good]).keys()], [listKeyId(central.publicKey)]);
  const rsa = path.join(dir, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
  assert.throws(() => loadTrustedKeys([rsa]), /should be an ed25519 key, instead got rsa/);
  assert.throws(() => loadTrustedKeys([path.join(dir, 'missing.pem')]), /cannot read the list public key/);
  rmSync(dir, { recursive: true });
});

test('car matcher – watchlist faces with real models', { timeout: 120_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const embedder = await CascadeFaceEmbedder.load(models);
  const faceOf = async (photo: string) => {
    const faces = await embedder.embedFacesInFile(path.join(fixtures, 'faces', photo));
    assert.equal(faces.length, 1, `${photo} has one face`);
    return faces[0]!.embedding;
  };
  const enrolled = await faceOf('subject-c-1.jpg');
  const sameSubject = await faceOf('subject-c-2.jpg');
  const otherSubject = await faceOf('subject-d-1.jpg');
  await embedder.close();

  const watchlist = (version: number, negative: Float32Array | null): ListPayload => {
    const items: Array<{ key: string; item: WatchlistItem }> = [
      { key: 'list:default', item: { type: 'list', listId: 'default', threshold: DEFAULT_FACE_THRESHOLD } },
      { key: 'subject:subject-c', item: { type: 'subject', subjectId: 'subject-c', listId: 'default', label: 'subject c', dimension: enrolled.length, embeddingsBase64: embeddingsToBase64([enrolled]) } },
    ];
    if (negative !== null) items.push({ key: 'negative:subject-c:h1', item: { type: 'negative', subjectId: 'subject-c', hitId: 'h1', embeddingBase64: embeddingsToBase64([negative]) } });
    return { v: 1, list: 'watchlist', kind: 'snapshot', version, issuedAtMs: 1, items } as ListPayload;
  };
  const { lists, dir } = newLists();
  assert.equal(lists.receive(listSnapshotTopic('watchlist'), signed(watchlist(1, null))).status, 'applied');
  const matcher = new CarMatcher({ lists, logger: silent });
  const faceRead = (embedding: Float32Array): MatchableRead => ({ kind: 'face', cameraId: 'left', trackId: 't2', face: { embedding } });

  const hit = matcher.onCandidate(faceRead(sameSubject));
  assert.equal(hit?.matchKey, 'face:subject-c');
  assert.ok(hit!.score >= DEFAULT_FACE_THRESHOLD, `score ${hit!.score}`);
  assert.equal(matcher.onCandidate(faceRead(otherSubject)), null, 'subject d does not match subject c');

  // A dismissed face kept as a negative stops the same face from raising the hit again.
  assert.equal(lists.receive(listSnapshotTopic('watchlist'), signed(watchlist(2, sameSubject))).status, 'applied');
  assert.equal(matcher.onCandidate(faceRead(sameSubject)), null);
  rmSync(dir, { recursive: true });
});

test('car lists – delivered by the central publisher', { timeout: 30_000 }, async () => {
  const broker = await startMosquitto();
  const { lists, dir } = newLists();
  const centralClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const car = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  try {
    const publisher = new ListPublisher(centralClient, central.privateKey, silent);
    const items = new Map([['川A8H458', hotlistItem('川A8H458').item]]);
    await publisher.publish('hotlist', 1, items);

    // The snapshot is retained, so a car that subscribes later still gets it.
    const outcomes: ListOutcome[] = [];
    const stop = subscribeToLists({ client: car, lists, logger: silent, onOutcome: (outcome) => outcomes.push(outcome) });
    await waitFor(() => lists.versions().hotlist === 1, 5000);
    await publisher.publish('hotlist', 2, new Map([...items, ['京EA5331', hotlistItem('京EA5331').item]]));
    await waitFor(() => lists.versions().hotlist === 2, 5000);
    assert.notEqual(lists.hotlist.lookup('京EA5331'), null);
    assert.ok(outcomes.every((outcome) => outcome.status !== 'rejected'), JSON.stringify(outcomes));

    // Offline, the car keeps matching against the copy it has.
    await car.endAsync(true);
    await broker.stop();
    const matcher = new CarMatcher({ lists, logger: silent });
    assert.equal(matcher.onCandidate(plateRead('京EA5331'))?.matchKey, 'plate:京EA5331');
    stop();
  } finally {
    await centralClient.endAsync(true);
    await car.endAsync(true);
    await broker.dispose();
    rmSync(dir, { recursive: true });
  }
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
