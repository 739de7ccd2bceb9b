// End-to-end receipts: the car deletes an event only when the central service has stored it. The
// proof runs on a private Mosquitto that keeps at most 5 queued messages for an offline session, so
// the broker really drops events while the central service is away, as a busy broker would.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Outbox } from '../agent/uplink/outbox.js';
import { MAX_RECEIPT_BACKOFF, Publisher } from '../agent/uplink/publisher.js';
import { listenForReceipts } from '../agent/uplink/receipts.js';
import { ListManager } from '../src/central/lists/list-manager.js';
import { CentralService, type IngestedEvent } from '../src/central/service.js';
import { SqliteStore } from '../src/central/store/sqlite-store.js';
import { payloadDigest, parseReceipt } from '../src/protocol/receipts.js';
import { eventTopic } from '../src/protocol/topics.js';
import { cleanPlate, plateEventFor } from './support/central-load.js';
import { startMosquitto, type RunningMosquitto } from './support/mosquitto.js';

const silent = pino({ level: 'silent' });
const QUEUE_LIMIT = 5;
const RECEIPT_TIMEOUT_MS = 1500;

test('outbox – sent row waits for receipt', () => {
  let now = 10_000;
  const outbox = new Outbox(':memory:', () => now);
  const seq = outbox.append((s) => ({ topic: 't', payload: Buffer.from(JSON.stringify({ seq: s })) }));
  outbox.markSent(seq, now);
  assert.equal(outbox.stats().awaitingReceipt, 1);
  assert.deepEqual(outbox.nextToSend(new Set(), 10, now - 1000), [], 'a row sent just now is not offered again');
  now += 2000;
  const [again] = outbox.nextToSend(new Set(), 10, now - 1000);
  assert.equal(again?.seq, seq, 'a row whose receipt is overdue is offered again');
  assert.equal(again?.sentAtMs, 10_000);
  outbox.remove(seq);
  assert.equal(outbox.stats().depth, 0);
  outbox.close();
});

test('outbox – quarantine matches payload digest', () => {
  const outbox = new Outbox(':memory:');
  const payload = Buffer.from('{"seq":1,"bad":true}');
  const seq = outbox.append(() => ({ topic: 't', payload }));
  assert.equal(outbox.quarantine(seq, 'EVENT_INVALID', (stored) => payloadDigest(stored) === payloadDigest(Buffer.from('{"seq":1,"other":1}'))), false);
  assert.equal(outbox.stats().depth, 1, 'a rejection for other bytes leaves the row alone');
  assert.equal(outbox.quarantine(seq, 'EVENT_INVALID', (stored) => payloadDigest(stored) === payloadDigest(payload)), true);
  const stats = outbox.stats();
  assert.equal(stats.depth, 0);
  assert.equal(stats.quarantined, 1);
  assert.equal(stats.payloadBytes, 0, 'the running totals follow the move');
  outbox.close();
});

test('outbox – receipt deletes only sent rows', () => {
  const outbox = new Outbox(':memory:');
  const unsent = outbox.append((seq) => ({ topic: 't', payload: Buffer.from(String(seq)) }));
  const sent = outbox.append((seq) => ({ topic: 't', payload: Buffer.from(String(seq)) }));
  outbox.markSent(sent, 1000);
  assert.equal(outbox.confirmStored(unsent), false, 'an event never sent cannot have been stored centrally');
  assert.equal(outbox.confirmStored(sent), true);
  assert.deepEqual(outbox.peek(0, 10).map((row) => row.seq), [unsent]);
  outbox.close();
});

test('outbox – new file starts at firstSeq', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'receipts-seq-'));
  const file = path.join(dir, 'outbox.sqlite');
  try {
    const first = new Outbox(file, { firstSeq: 1_700_000_000_000 });
    assert.equal(first.append((s) => ({ topic: 't', payload: Buffer.from(String(s)) })), 1_700_000_000_000);
    first.close();
    const reopened = new Outbox(file, { firstSeq: 1_800_000_000_000 });
    assert.equal(reopened.append((s) => ({ topic: 't', payload: Buffer.from(String(s)) })), 1_700_000_000_001, 'an existing file keeps its numbering');
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('receipts – parse rejects bad receipts', () => {
  const good = { v: 1, carId: 'car-1', stored: [1, 2], rejected: [{ seq: 3, code: 'EVENT_INVALID', digest: '0123456789abcdef' }] };
  assert.equal(parseReceipt(Buffer.from(JSON.stringify(good)), 'car-1').ok, true);
  const other = parseReceipt(Buffer.from(JSON.stringify(good)), 'car-2');
  assert.equal(other.ok, false);
  assert.match(other.ok ? '' : other.message, /another car/);
  for (const bad of ['not json', JSON.stringify({ ...good, stored: [0] }), JSON.stringify({ ...good, stored: 'x' }), JSON.stringify({ ...good, extra: 1 }), '['.repeat(50)]) {
    assert.equal(parseReceipt(Buffer.from(bad), 'car-1').ok, false, bad.slice(0, 40));
  }
});

interface Central {
  service: CentralService;
  client: MqttClient;
  ingested: IngestedEvent[];
}

async function startCentral(broker: RunningMosquitto, store: SqliteStore, clientId: string, ingested: IngestedEvent[]): Promise<Central> {
  const lists = new ListManager({ store, logger: silent });
  await lists.syncConfig({ hotlist: [], faceLists: [{ listId: 'default', threshold: 0.4 }], subjects: [] });
  // A persistent session, as the central service keeps: the broker queues for it while it is away.
  // The service takes over the client before it connects, as src/central/start.ts does, so the
  // queued messages that arrive right after the CONNACK reach it.
  const client = mqtt.connect(broker.url, { protocolVersion: 5, clientId, clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 0 });
  const service = new CentralService({ client, store, lists, logger: silent, registry: new Registry(), shareGroup: null, receiptFlushMs: 20 });
  service.on('ingested', (event) => ingested.push(event));
  await service.start();
  return { service, client, ingested };
}

interface Car {
  outbox: Outbox;
  publisher: Publisher;
  client: MqttClient;
  resent: number;
  quarantined: string[];
  stop(): Promise<void>;
}

async function startCar(broker: RunningMosquitto, carId: string, dir: string, timeoutMs = RECEIPT_TIMEOUT_MS): Promise<Car> {
  const outbox = new Outbox(path.join(dir, 'outbox.sqlite'));
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clean: true, clientId: `${carId}-agent` });
  const car: Car = {
    outbox,
    client,
    resent: 0,
    quarantined: [],
    publisher: new Publisher({
      client,
      outbox,
      logger: silent,
      receipts: { timeoutMs },
      onResent: (count) => (car.resent += count),
      onQuarantined: (_seq, code) => car.quarantined.push(code),
    }),
    async stop() {
      stopListening();
      car.publisher.stop();
      await client.endAsync();
      outbox.close();
    },
  };
  const stopListening = listenForReceipts({ client, carId, logger: silent, onReceipt: (receipt) => car.publisher.applyReceipt(receipt) });
  return car;
}

function appendPlates(car: Car, carId: string, count: number): void {
  for (let i = 0; i < count; i++) {
    car.outbox.append((seq) => ({ topic: eventTopic(carId), payload: Buffer.from(JSON.stringify(plateEventFor(carId, seq, cleanPlate(seq)))) }));
  }
  car.publisher.pump();
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function storedSeqs(ingested: IngestedEvent[]): number[] {
  return ingested.filter((event) => !event.duplicate).map((event) => event.seq).sort((a, b) => a - b);
}

async function rig(t: TestContext) {
  const dir = mkdtempSync(path.join(tmpdir(), 'receipts-test-'));
  const broker = await startMosquitto({ globalLines: ['allow_anonymous true', `max_queued_messages ${QUEUE_LIMIT}`] });
  const store = new SqliteStore(path.join(dir, 'central.sqlite'));
  const carId = `car-${randomBytes(3).toString('hex')}`;
  t.after(async () => {
    await broker.dispose();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, broker, store, carId };
}

test('receipts – dropped events resent, stored once', { timeout: 60_000 }, async (t) => {
  const { dir, broker, store, carId } = await rig(t);
  const ingested: IngestedEvent[] = [];
  const centralId = `central-${carId}`;
  let central = await startCentral(broker, store, centralId, ingested);
  const car = await startCar(broker, carId, dir);
  try {
    appendPlates(car, carId, 5);
    await waitFor(() => car.outbox.stats().depth === 0, 10_000, 'the first five receipts');
    assert.deepEqual(storedSeqs(ingested), [1, 2, 3, 4, 5]);
    assert.equal(car.resent, 0, 'nothing is resent while receipts come in time');

    // The central service goes away; its session stays, and the broker queues at most 5 for it.
    await central.client.endAsync();
    await central.service.stop();
    appendPlates(car, carId, 30);
    await waitFor(() => car.outbox.stats().awaitingReceipt === 30, 10_000, 'the broker to acknowledge all 30');
    assert.equal(car.outbox.stats().depth, 30, 'a PUBACK alone deletes nothing');

    central = await startCentral(broker, store, centralId, ingested);
    await waitFor(() => car.outbox.stats().depth === 0, 30_000, 'every event to be receipted');
    assert.deepEqual(storedSeqs(ingested), Array.from({ length: 35 }, (_, i) => i + 1), 'every event stored exactly once');
    assert.ok(car.resent >= 30 - QUEUE_LIMIT, `the events the broker dropped were sent again (resent ${car.resent})`);
    t.diagnostic(`resent ${car.resent}, deliveries ${ingested.length}, duplicates ${ingested.filter((event) => event.duplicate).length}`);
  } finally {
    await car.stop();
    await central.client.endAsync();
    await central.service.stop();
  }
});

test('receipts – broker-ack mode loses dropped events', { timeout: 60_000 }, async (t) => {
  const { dir, broker, store, carId } = await rig(t);
  const ingested: IngestedEvent[] = [];
  const centralId = `central-${carId}`;
  let central = await startCentral(broker, store, centralId, ingested);
  await central.client.endAsync();
  await central.service.stop();

  const outbox = new Outbox(path.join(dir, 'outbox.sqlite'));
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clean: true, clientId: `${carId}-agent` });
  const publisher = new Publisher({ client, outbox, logger: silent });
  try {
    for (let i = 0; i < 30; i++) outbox.append((seq) => ({ topic: eventTopic(carId), payload: Buffer.from(JSON.stringify(plateEventFor(carId, seq, cleanPlate(seq)))) }));
    publisher.pump();
    assert.equal(await publisher.drained(10_000), true, 'the broker acknowledged everything and the outbox is empty');
    central = await startCentral(broker, store, centralId, ingested);
    await waitFor(() => ingested.length >= QUEUE_LIMIT, 10_000, 'the queued events');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(ingested.length, QUEUE_LIMIT, `only the broker's queue reached the central service; ${30 - ingested.length} events are gone`);
  } finally {
    publisher.stop();
    await client.endAsync();
    outbox.close();
    await central.client.endAsync();
    await central.service.stop();
  }
});

test('receipts – rejected event quarantined', { timeout: 30_000 }, async (t) => {
  const { dir, broker, store, carId } = await rig(t);
  const ingested: IngestedEvent[] = [];
  const central = await startCentral(broker, store, `central-${carId}`, ingested);
  const car = await startCar(broker, carId, dir);
  try {
    car.outbox.append((seq) => ({ topic: eventTopic(carId), payload: Buffer.from(JSON.stringify({ ...plateEventFor(carId, seq, cleanPlate(seq)), cameraId: '' })) }));
    appendPlates(car, carId, 1);
    await waitFor(() => car.outbox.stats().depth === 0, 10_000, 'both events to be receipted');
    assert.deepEqual(car.quarantined, ['EVENT_INVALID']);
    assert.equal(car.outbox.stats().quarantined, 1);
    assert.deepEqual(storedSeqs(ingested), [2]);
    await new Promise((resolve) => setTimeout(resolve, RECEIPT_TIMEOUT_MS * 1.5));
    assert.equal(car.resent, 0, 'the rejected event is not sent again');
  } finally {
    await car.stop();
    await central.client.endAsync();
    await central.service.stop();
  }
});

test('receipts – reused sequence number quarantined', { timeout: 30_000 }, async (t) => {
  const { dir, broker, store, carId } = await rig(t);
  const ingested: IngestedEvent[] = [];
  const central = await startCentral(broker, store, `central-${carId}`, ingested);
  const before = await startCar(broker, carId, path.join(dir, 'before'));
  let after: Car | null = null;
  try {
    appendPlates(before, carId, 2);
    await waitFor(() => before.outbox.stats().depth === 0, 10_000, 'the first two receipts');
    await before.stop();

    // The outbox is lost: a new file numbers from 1 again, and its events differ from the stored ones.
    after = await startCar(broker, carId, path.join(dir, 'after'));
    const car = after;
    car.outbox.append((seq) => ({ topic: eventTopic(carId), payload: Buffer.from(JSON.stringify({ ...plateEventFor(carId, seq, cleanPlate(seq + 100)), committedAtMs: Date.now() + 5000 })) }));
    car.publisher.pump();
    await waitFor(() => car.outbox.stats().depth === 0, 10_000, 'the conflict to be receipted');
    assert.deepEqual(car.quarantined, ['EVENT_SEQ_CONFLICT'], 'the car keeps the event in quarantine');
    assert.deepEqual(storedSeqs(ingested), [1, 2], 'the stored event 1 is left as it was');
    const stored = await store.getEvent(carId, 1);
    assert.equal(stored?.kind === 'plate' ? stored.plate.text : null, cleanPlate(1));
  } finally {
    await after?.stop();
    await central.client.endAsync();
    await central.service.stop();
  }
});

test('receipts – resends back off while no receipt comes', { timeout: 30_000 }, async (t) => {
  const { dir, broker, store, carId } = await rig(t);
  const timeoutMs = 300;
  const car = await startCar(broker, carId, dir, timeoutMs);
  const ingested: IngestedEvent[] = [];
  let central: Central | null = null;
  try {
    appendPlates(car, carId, 3);
    // No central service: each round that gets no receipt doubles the timeout, up to 8 times.
    await waitFor(() => car.publisher.currentReceiptTimeoutMs === timeoutMs * MAX_RECEIPT_BACKOFF, 15_000, 'the timeout to reach its cap');
    const roundsWithoutBackoff = 6_000 / timeoutMs;
    assert.ok(car.resent < 3 * roundsWithoutBackoff, `resent ${car.resent} times, fewer than without backoff`);

    central = await startCentral(broker, store, `central-${carId}`, ingested);
    await waitFor(() => car.outbox.stats().depth === 0, 15_000, 'the receipts once the central service is back');
    assert.equal(car.publisher.currentReceiptTimeoutMs, timeoutMs, 'a receipt restores the configured timeout');
    assert.deepEqual(storedSeqs(ingested), [1, 2, 3]);
  } finally {
    await car.stop();
    if (central !== null) {
      await central.client.endAsync();
      await central.service.stop();
    }
  }
});
