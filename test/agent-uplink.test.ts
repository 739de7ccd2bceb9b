// Outbox and publisher against real SQLite files and the real Mosquitto on 127.0.0.1:1883.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import Database from 'better-sqlite3';
import { Outbox, type Eviction } from '../agent/uplink/outbox.js';
import { Publisher } from '../agent/uplink/publisher.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';
const silent = pino({ level: 'silent' });

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'outbox-test-'));
}

function appendText(outbox: Outbox, topic: string, text: string): number {
  return outbox.append((seq) => ({ topic, payload: Buffer.from(JSON.stringify({ seq, text })) }));
}

test('outbox – sequence numbers survive reopen and deletion', () => {
  const dir = tempDir();
  const file = path.join(dir, 'outbox.sqlite');
  const first = new Outbox(file);
  assert.equal(appendText(first, 't', 'a'), 1);
  assert.equal(appendText(first, 't', 'b'), 2);
  first.remove(2);
  first.close();

  const reopened = new Outbox(file);
  assert.equal(appendText(reopened, 't', 'c'), 3, 'a deleted sequence number must never be reused');
  assert.deepEqual(reopened.peek(0, 10).map((row) => row.seq), [1, 3]);
  assert.equal(reopened.stats().depth, 2);
  assert.equal(reopened.stats().lastSeq, 3);
  reopened.close();
  rmSync(dir, { recursive: true });
});

test('outbox – payload carries the committed sequence number', () => {
  const outbox = new Outbox(':memory:', () => 1234);
  outbox.append((seq, committedAtMs) => ({ topic: 't', payload: Buffer.from(JSON.stringify({ seq, committedAtMs })) }));
  const [row] = outbox.peek(0, 1);
  assert.deepEqual(JSON.parse(row!.payload.toString()), { seq: 1, committedAtMs: 1234 });
  assert.equal(row!.createdAtMs, 1234);
  outbox.close();
});

test('publisher – delivers backlog in order and empties outbox', async () => {
  const topic = `patrol-test/${process.pid}-${Date.now()}/events`;
  const received: number[] = [];
  const listener = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  await listener.subscribeAsync(topic, { qos: 1 });
  listener.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).seq));

  // Events committed while no client exists must all go out once the link comes up.
  const outbox = new Outbox(':memory:');
  for (let i = 0; i < 200; i++) appendText(outbox, topic, `event ${i}`);
  const client = mqtt.connect(BROKER_URL, { protocolVersion: 5, clean: true });
  const publisher = new Publisher({ client, outbox, logger: silent, maxInFlight: 16 });

  assert.equal(await publisher.drained(10_000), true);
  await waitFor(() => received.length >= 200, 5000);
  assert.deepEqual(received, Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal(outbox.stats().depth, 0);
  assert.equal(publisher.ackedCount, 200);

  await client.endAsync();
  await listener.endAsync();
  outbox.close();
});

test('publisher – keeps events while broker unreachable', async () => {
  const outbox = new Outbox(':memory:');
  // Port 9 (discard) on loopback has no listener here, so the connection is refused.
  const client = mqtt.connect('mqtt://127.0.0.1:9', { protocolVersion: 5, reconnectPeriod: 100, connectTimeout: 500 });
  client.on('error', () => {});
  const publisher = new Publisher({ client, outbox, logger: silent });
  for (let i = 0; i < 5; i++) appendText(outbox, 'patrol-test/offline', `event ${i}`);
  publisher.pump();

  assert.equal(await publisher.drained(800), false);
  assert.equal(outbox.stats().depth, 5);
  await client.endAsync(true);
  outbox.close();
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Appends an event-shaped payload with `evidenceBytes` of base64 evidence. */
function appendWithEvidence(outbox: Outbox, evidenceBytes: number, hit = false): number {
  const evidence = evidenceBytes > 0 ? [{ kind: 'plate-crop', jpegBase64: 'A'.repeat(evidenceBytes) }] : [];
  return outbox.append((seq) => ({ topic: 't', payload: Buffer.from(JSON.stringify({ seq, kind: 'plate', evidence })) }), { hit });
}

test('outbox – hits are sent before older events', () => {
  const outbox = new Outbox(':memory:');
  appendWithEvidence(outbox, 0);
  appendWithEvidence(outbox, 0);
  const hitSeq = appendWithEvidence(outbox, 0, true);
  appendWithEvidence(outbox, 0);

  assert.deepEqual(outbox.nextToSend(new Set(), 10).map((row) => row.seq), [hitSeq, 1, 2, 4]);
  assert.deepEqual(outbox.nextToSend(new Set([hitSeq, 1]), 10).map((row) => row.seq), [2, 4]);
  assert.equal(outbox.stats().hits, 1);
  outbox.close();
});

test('outbox – evidence cap evicts non-hit evidence oldest first', () => {
  const evictions: Eviction[] = [];
  const outbox = new Outbox(':memory:', { budget: { maxBytes: 1_000_000, evidenceMaxBytes: 3000 }, onEviction: (e) => evictions.push(e) });
  appendWithEvidence(outbox, 1000, true);
  appendWithEvidence(outbox, 1000);
  appendWithEvidence(outbox, 1000);
  assert.equal(evictions.length, 0, 'no eviction while under the cap');
  appendWithEvidence(outbox, 1000);

  assert.equal(evictions.length, 1);
  assert.equal(evictions[0]!.kind, 'evidence');
  assert.equal(evictions[0]!.cap, 'evidence');
  assert.deepEqual(evictions[0]!.seqs, [2], 'the oldest non-hit loses its evidence, the older hit keeps it');
  assert.equal(outbox.stats().evidenceBytes, 3000);
  const rows = outbox.peek(0, 10);
  assert.equal(rows.length, 4, 'evidence eviction keeps every event');
  const evidenceCounts = rows.map((row) => JSON.parse(row.payload.toString()).evidence.length);
  assert.deepEqual(evidenceCounts, [1, 0, 1, 1]);
  outbox.close();
});

test('outbox – outbox cap deletes non-hit events, never hits', () => {
  const evictions: Eviction[] = [];
  const outbox = new Outbox(':memory:', { budget: { maxBytes: 6000, evidenceMaxBytes: 1_000_000 }, onEviction: (e) => evictions.push(e) });
  for (let i = 0; i < 4; i++) appendWithEvidence(outbox, 2000, true);
  for (let i = 0; i < 3; i++) appendWithEvidence(outbox, 0);

  const stats = outbox.stats();
  assert.equal(stats.hits, 4, 'hits stay although they exceed the cap');
  assert.equal(stats.depth, 4, 'non-hit events were deleted');
  assert.ok(evictions.some((e) => e.kind === 'event'), 'event eviction reported');
  assert.ok(evictions.every((e) => e.seqs.every((seq) => seq > 4)), 'no hit was touched');
  outbox.close();
});

test('outbox – byte totals survive reopen', () => {
  const dir = tempDir();
  const file = path.join(dir, 'outbox.sqlite');
  const first = new Outbox(file);
  appendWithEvidence(first, 500);
  const seq = appendWithEvidence(first, 700);
  const before = first.stats();
  first.remove(seq);
  first.close();

  const reopened = new Outbox(file);
  const after = reopened.stats();
  assert.equal(after.evidenceBytes, 500);
  assert.ok(after.payloadBytes > 500, 'the remaining event is counted');
  assert.ok(after.payloadBytes < before.payloadBytes, 'the removed event is not');
  assert.equal(reopened.checkIntegrity(), true);
  reopened.close();
  rmSync(dir, { recursive: true });
});

test('outbox – migrates a version 1 database', () => {
  const dir = tempDir();
  const file = path.join(dir, 'outbox.sqlite');
  const old = new Database(file);
  old.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('last_seq', 7);
    INSERT INTO outbox VALUES (7, 't', '{"evidence":[{"jpegBase64":"AAAA"}]}', 1);
    PRAGMA user_version = 1;`);
  old.close();

  const outbox = new Outbox(file);
  assert.deepEqual(outbox.nextToSend(new Set(), 5).map((row) => [row.seq, row.hit]), [[7, false]]);
  assert.equal(appendWithEvidence(outbox, 0), 8);
  outbox.close();
  rmSync(dir, { recursive: true });
});

test('publisher – hit overtakes a backlog of sightings', async () => {
  const topic = `patrol-test/${process.pid}-${Date.now()}/hits-first`;
  const received: number[] = [];
  const listener = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  await listener.subscribeAsync(topic, { qos: 1 });
  listener.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).seq));

  const outbox = new Outbox(':memory:');
  for (let i = 0; i < 50; i++) appendText(outbox, topic, `sighting ${i}`);
  const hitSeq = outbox.append((seq) => ({ topic, payload: Buffer.from(JSON.stringify({ seq, text: 'hit' })) }), { hit: true });
  const client = mqtt.connect(BROKER_URL, { protocolVersion: 5, clean: true });
  const publisher = new Publisher({ client, outbox, logger: silent, maxInFlight: 1 });

  assert.equal(await publisher.drained(10_000), true);
  await waitFor(() => received.length >= 51, 5000);
  assert.equal(received[0], hitSeq, 'the hit goes out first');
  assert.deepEqual(received.slice(1), Array.from({ length: 50 }, (_, i) => i + 1));

  await client.endAsync();
  await listener.endAsync();
  outbox.close();
});

test('outbox – smaller budget applied at open', () => {
  const dir = tempDir();
  const file = path.join(dir, 'outbox.sqlite');
  const first = new Outbox(file);
  for (let i = 0; i < 4; i++) appendWithEvidence(first, 1000);
  first.close();

  const evictions: Eviction[] = [];
  const reopened = new Outbox(file, { budget: { maxBytes: 1_000_000, evidenceMaxBytes: 2000 }, onEviction: (e) => evictions.push(e) });
  assert.deepEqual(evictions.map((e) => e.seqs), [[1, 2]]);
  assert.equal(reopened.stats().evidenceBytes, 2000);
  reopened.close();
  rmSync(dir, { recursive: true });
});
