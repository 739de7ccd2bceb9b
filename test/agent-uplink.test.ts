// Outbox and publisher against real SQLite files and the real Mosquitto on 127.0.0.1:1883.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { Outbox } from '../agent/uplink/outbox.js';
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
