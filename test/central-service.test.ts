// Central service against the real Mosquitto on 127.0.0.1:1883 and real SQLite files: hits and their
// latency, duplicate deliveries, malformed messages, cooldown folding, tolerant plates, status
// messages and operator decisions. Each run uses fresh car ids and its own shared-subscription group.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { REDACTED_PATHS } from '../src/common/log.js';
import type { FaceEvent, PatrolEvent, PlateEvent } from '../src/protocol/event.js';
import { HITS_TOPIC, eventTopic } from '../src/protocol/topics.js';
import type { Hit } from '../src/central/hit.js';
import { ListManager } from '../src/central/lists/list-manager.js';
import { CentralService, type HitRepeat, type IngestedEvent, type RejectedMessage } from '../src/central/service.js';
import { SqliteStore } from '../src/central/store/sqlite-store.js';
import type { CentralStore } from '../src/central/store/store.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';
const HOT_PLATE = '川A8H458';
const OTHER_HOT_PLATE = '京EA5331';
const CLEAN_PLATE = '沪B12345';

const evidenceJpeg = (await sharp({ create: { width: 16, height: 8, channels: 3, background: '#4060a0' } }).jpeg().toBuffer()).toString('base64');

function newCarId(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}

/** Builds a unit vector along one axis, tilted towards a second axis, so cosine similarities are easy to compute by hand. */
function unitEmbedding(axis: number, tilt = 0, tiltAxis = (axis + 1) % 128): number[] {
  const vector = new Array<number>(128).fill(0);
  vector[axis] = 1;
  vector[tiltAxis] = tilt;
  const norm = Math.hypot(1, tilt);
  return vector.map((value) => value / norm);
}

interface CarTimes {
  frameReceivedAtMs: number;
  analysedAtMs: number;
  committedAtMs: number;
  clockOffsetMs: number | null;
}

function carTimes(nowMs: number): CarTimes {
  return { frameReceivedAtMs: nowMs - 400, analysedAtMs: nowMs - 220, committedAtMs: nowMs - 200, clockOffsetMs: 0 };
}

function plateEvent(carId: string, seq: number, text: string, times: CarTimes = carTimes(Date.now())): PlateEvent {
  return {
    v: 1,
    kind: 'plate',
    carId,
    seq,
    cameraId: 'cam1-front',
    ...times,
    stages: { queueMs: 12, inferenceMs: 95 },
    evidence: [{ kind: 'plate-crop', jpegBase64: evidenceJpeg }],
    plate: {
      text,
      format: 'standard',
      color: 'blue',
      rows: 1,
      confidence: 0.93,
      box: [100, 200, 240, 245],
      corners: [[100, 200], [240, 202], [240, 245], [100, 243]],
    },
  };
}

function faceEvent(carId: string, seq: number, embedding: number[]): FaceEvent {
  return {
    v: 1,
    kind: 'face',
    carId,
    seq,
    cameraId: 'cam8-rear-right',
    ...carTimes(Date.now()),
    stages: { queueMs: 8, inferenceMs: 40 },
    evidence: [{ kind: 'face-crop', jpegBase64: evidenceJpeg }],
    face: {
      box: [50, 60, 110, 140],
      landmarks: [[70, 90], [95, 90], [82, 105], [72, 120], [94, 120]],
      score: 0.92,
      quality: 0.8,
      embedding,
    },
  };
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} should be registered`);
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected));
  return match?.value ?? 0;
}

interface SubjectSetup {
  subjectId: string;
  label: string;
  embeddings: Float32Array[];
}

interface Harness {
  service: CentralService;
  store: CentralStore;
  lists: ListManager;
  registry: Registry;
  publisher: MqttClient;
  logLines: string[];
  hits: Hit[];
  repeats: HitRepeat[];
  ingested: IngestedEvent[];
  rejected: RejectedMessage[];
  publish(topic: string, payload: string | Buffer, options?: { retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

async function startHarness(options: { clock?: () => number; hitCooldownMs?: number; subjects?: SubjectSetup[]; faceThreshold?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'central-service-'));
  const store = new SqliteStore(path.join(dir, 'central.sqlite'));
  const registry = new Registry();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug', redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } }, sink);

  const client = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5, clean: true, clientId: `central-test-${randomBytes(4).toString('hex')}` });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5, clean: true });
  const lists = new ListManager({ store, logger, clock: options.clock });
  await lists.syncConfig({
    hotlist: [
      { plate: HOT_PLATE, reason: 'stolen vehicle', priority: 1 },
      { plate: OTHER_HOT_PLATE, reason: 'unpaid tolls', priority: 3 },
    ],
    faceLists: [{ listId: 'default', threshold: options.faceThreshold ?? 0.4 }],
    subjects: (options.subjects ?? []).map((subject) => ({ ...subject, listId: 'default' })),
  });
  const shareGroup = `test-${randomBytes(4).toString('hex')}`;
  const service = new CentralService({ client, store, lists, logger, registry, clock: options.clock, hitCooldownMs: options.hitCooldownMs, shareGroup });

  const harness: Harness = {
    service,
    store,
    lists,
    registry,
    publisher,
    logLines,
    hits: [],
    repeats: [],
    ingested: [],
    rejected: [],
    async publish(topic, payload, publishOptions = {}) {
      await publisher.publishAsync(topic, payload, { qos: 1, retain: publishOptions.retain ?? false });
    },
    async close() {
      await client.endAsync();
      await service.stop();
      await publisher.endAsync();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  service.on('hit', (hit) => harness.hits.push(hit));
  service.on('hitRepeated', (repeat) => harness.repeats.push(repeat));
  service.on('ingested', (event) => harness.ingested.push(event));
  service.on('rejected', (rejection) => harness.rejected.push(rejection));
  await service.start();
  return harness;
}

async function publishEvent(harness: Harness, event: PatrolEvent): Promise<void> {
  await harness.publish(eventTopic(event.carId), JSON.stringify(event));
}

function ingestedFor(harness: Harness, carId: string): IngestedEvent[] {
  return harness.ingested.filter((event) => event.carId === carId);
}

test('service – raises one hit for a hotlisted plate', async () => {
  const harness = await startHarness();
  const carId = newCarId();
  const published: Hit[] = [];
  const hitListener = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5, clean: true });
  await hitListener.subscribeAsync(HITS_TOPIC, { qos: 1 });
  hitListener.on('message', (_topic, payload) => {
    const hit = JSON.parse(payload.toString()) as Hit;
    if (hit.carId === carId) published.push(hit);
  });

  try {
    const clean = plateEvent(carId, 1, CLEAN_PLATE);
    const hot = plateEvent(carId, 2, '川A 8H-458');
    await publishEvent(harness, clean);
    await publishEvent(harness, hot);
    await waitUntil(() => ingestedFor(harness, carId).length === 2, 'both events to be ingested');
    // Another central service on the same broker may publish its own hit for these events, so the
    // published hit is found by id.
    const isOurs = (candidate: Hit): boolean => harness.hits.some((raised) => raised.hitId === candidate.hitId);
    await waitUntil(() => published.some(isOurs), 'the hit on the hits topic');

    const carHits = harness.hits.filter((hit) => hit.carId === carId);
    assert.equal(carHits.length, 1, 'only the hotlisted plate should raise a hit');
    const hit = carHits[0]!;
    assert.equal(hit.kind, 'plate');
    assert.equal(hit.seq, 2);
    assert.equal(hit.cameraId, 'cam1-front');
    assert.deepEqual(hit.matched, { plate: HOT_PLATE, readPlate: HOT_PLATE, reason: 'stolen vehicle', priority: 1 });
    assert.equal(hit.matchKind, 'exact');
    assert.equal(hit.score, 1);
    assert.deepEqual(hit.evidence, hot.evidence);
    assert.equal(hit.frameReceivedAtMs, hot.frameReceivedAtMs);

    assert.equal(hit.latency.queueMs, 12);
    assert.equal(hit.latency.inferenceMs, 95);
    assert.equal(hit.latency.outboxMs, 20);
    assert.equal(hit.latency.uplinkMs, hit.centralReceivedAtMs - hot.committedAtMs);
    assert.ok(hit.latency.uplinkMs >= 200, `uplinkMs ${hit.latency.uplinkMs} should cover the 200 ms head start`);
    assert.ok(hit.latency.uplinkMs < 5000, `uplinkMs ${hit.latency.uplinkMs} should be under 5 s on loopback`);
    assert.equal(hit.latency.centralMs, hit.hitAtMs - hit.centralReceivedAtMs);
    assert.ok(hit.latency.centralMs >= 0, `centralMs ${hit.latency.centralMs} should not be negative`);
    assert.ok(hit.latency.centralMs < 1000, `centralMs ${hit.latency.centralMs} should be under 1 s`);
    assert.equal(hit.latency.frameToHitMs, hit.hitAtMs - hot.frameReceivedAtMs);

    assert.deepEqual(published.find(isOurs), hit, 'the published hit should equal the emitted one');
    const stored = await harness.store.getHit(hit.hitId);
    assert.ok(stored);
    assert.equal(stored.repeatCount, 0);
    assert.deepEqual(stored.latency, hit.latency);
    assert.equal(await counterValue(harness.registry, 'patrol_central_hits_total', { kind: 'plate' }), 1);
    assert.equal(await harness.store.countEvents(carId), 2);
  } finally {
    await hitListener.endAsync();
    await harness.close();
  }
});

test('service – corrects uplink latency by clock offset', async () => {
  const centralNowMs = 1_800_000_000_000;
  const harness = await startHarness({ clock: () => centralNowMs });
  const carId = newCarId();
  try {
    // The car clock runs 5 s behind the central clock.
    const carNowMs = centralNowMs - 5000;
    const event = plateEvent(carId, 1, HOT_PLATE, {
      frameReceivedAtMs: carNowMs - 400,
      analysedAtMs: carNowMs - 180,
      committedAtMs: carNowMs - 150,
      clockOffsetMs: 5000,
    });
    await publishEvent(harness, event);
    await waitUntil(() => harness.hits.some((hit) => hit.carId === carId), 'the hit');

    const hit = harness.hits.find((candidate) => candidate.carId === carId)!;
    assert.equal(hit.centralReceivedAtMs, centralNowMs);
    assert.equal(hit.hitAtMs, centralNowMs);
    assert.equal(hit.latency.uplinkMs, 150);
    assert.equal(hit.latency.outboxMs, 30);
    assert.equal(hit.latency.frameToHitMs, 400);
    assert.equal(hit.latency.centralMs, 0);
  } finally {
    await harness.close();
  }
});

test('service – stores a duplicate delivery once', async () => {
  const harness = await startHarness();
  const carId = newCarId();
  try {
    const event = plateEvent(carId, 7, HOT_PLATE);
    await publishEvent(harness, event);
    await publishEvent(harness, event);
    await waitUntil(() => ingestedFor(harness, carId).length === 2, 'both deliveries to be ingested');

    assert.deepEqual(ingestedFor(harness, carId).map((ingested) => ingested.duplicate), [false, true]);
    assert.equal(await harness.store.countEvents(carId), 1);
    assert.deepEqual(await harness.store.getEvent(carId, 7), event);
    assert.equal(harness.hits.filter((hit) => hit.carId === carId).length, 1, 'a duplicate delivery should not raise a second hit');
    assert.equal(harness.repeats.filter((repeat) => repeat.carId === carId).length, 0, 'a duplicate delivery is not a repeat sighting');
    assert.equal((await harness.store.listHitsForCar(carId)).length, 1);
    assert.ok((await counterValue(harness.registry, 'patrol_central_events_duplicate_total')) >= 1);
  } finally {
    await harness.close();
  }
});

test('service – rejects malformed messages and keeps running', async () => {
  const harness = await startHarness();
  const carId = newCarId();
  const otherCarId = newCarId();
  try {
    const valid = plateEvent(carId, 1, CLEAN_PLATE);
    const wrongTypes = { ...plateEvent(carId, 2, CLEAN_PLATE), seq: 'two', stages: { queueMs: -1, inferenceMs: 'fast' } };
    const huge = JSON.stringify({ ...plateEvent(carId, 3, CLEAN_PLATE), padding: 'x'.repeat(300 * 1024) });
    const notJpeg = { ...plateEvent(carId, 6, CLEAN_PLATE), evidence: [{ kind: 'plate-crop', jpegBase64: '!!!notbase64' }] };
    const notJpegButBase64 = { ...plateEvent(carId, 7, CLEAN_PLATE), evidence: [{ kind: 'plate-crop', jpegBase64: 'iVBORw0KGgo=' }] };
    const topic = eventTopic(carId);

    await harness.publish(topic, 'not json {');
    await harness.publish(topic, JSON.stringify(wrongTypes));
    await harness.publish(topic, huge);
    await harness.publish(eventTopic(otherCarId), JSON.stringify(plateEvent(carId, 4, CLEAN_PLATE)));
    await harness.publish('patrol/v1/cars//events', JSON.stringify(plateEvent(carId, 5, CLEAN_PLATE)));
    await harness.publish(topic, '');
    await harness.publish(topic, JSON.stringify(notJpeg));
    await harness.publish(topic, JSON.stringify(notJpegButBase64));
    await publishEvent(harness, valid);

    await waitUntil(() => ingestedFor(harness, carId).length === 1, 'the valid event after the malformed ones');
    const mine = harness.rejected.filter((rejection) => rejection.topicCarId === carId || rejection.topicCarId === otherCarId || rejection.topicCarId === null);
    assert.deepEqual(
      mine.map((rejection) => rejection.code),
      ['EVENT_NOT_JSON', 'EVENT_INVALID', 'EVENT_TOO_LARGE', 'EVENT_TOPIC_MISMATCH', 'EVENT_TOPIC_MISMATCH', 'EVENT_NOT_JSON', 'EVENT_INVALID', 'EVENT_INVALID'],
    );
    assert.equal(await harness.store.countEvents(carId), 1, 'only the valid event should be stored');
    assert.ok((await counterValue(harness.registry, 'patrol_central_events_rejected_total', { code: 'EVENT_NOT_JSON' })) >= 2);
    assert.ok((await counterValue(harness.registry, 'patrol_central_events_rejected_total', { code: 'EVENT_TOO_LARGE' })) >= 1);
    assert.ok((await counterValue(harness.registry, 'patrol_central_events_rejected_total', { code: 'EVENT_TOPIC_MISMATCH' })) >= 2);

    const rejectionLines = harness.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'event rejected');
    assert.ok(rejectionLines.some((line) => line.code === 'EVENT_TOO_LARGE' && line.carId === carId), 'a rejection line should name the code and the car');
    const allLogs = harness.logLines.join('\n');
    assert.ok(!allLogs.includes(CLEAN_PLATE), 'logs must not contain plate texts of non-hits');
    assert.ok(!allLogs.includes(evidenceJpeg.slice(0, 32)), 'logs must not contain evidence images');
    assert.ok(!allLogs.includes('xxxxxxxx'), 'logs must not contain payload bytes');
  } finally {
    await harness.close();
  }
});

test('service – rejects a retained event replayed on subscribe', async () => {
  const carId = newCarId();
  const topic = eventTopic(carId);
  const seeder = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5, clean: true });
  await seeder.publishAsync(topic, JSON.stringify(plateEvent(carId, 1, HOT_PLATE)), { qos: 1, retain: true });
  const harness = await startHarness();
  try {
    await waitUntil(() => harness.rejected.some((rejection) => rejection.topicCarId === carId), 'the replayed retained event');
    assert.deepEqual(harness.rejected.filter((rejection) => rejection.topicCarId === carId).map((rejection) => rejection.code), ['EVENT_INVALID']);
    assert.equal(await harness.store.countEvents(carId), 0);
    assert.equal(harness.hits.filter((hit) => hit.carId === carId).length, 0);
  } finally {
    // An empty retained message deletes the retained event from the broker.
    await seeder.publishAsync(topic, '', { qos: 1, retain: true });
    await seeder.endAsync();
    await harness.close();
  }
});

test('service – rate-limits rejection log lines', async () => {
  const harness = await startHarness();
  const carId = newCarId();
  try {
    for (let i = 0; i < 20; i++) await harness.publish(eventTopic(carId), `garbage ${i}`);
    await waitUntil(() => harness.rejected.filter((rejection) => rejection.topicCarId === carId).length === 20, 'all 20 rejections');

    const lines = harness.logLines.filter((line) => line.includes('"event rejected"') && line.includes(carId));
    assert.equal(lines.length, 1, 'repeats of one code within 10 s should share one log line');
    assert.ok((await counterValue(harness.registry, 'patrol_central_events_rejected_total', { code: 'EVENT_NOT_JSON' })) >= 20);
  } finally {
    await harness.close();
  }
});

test('service – folds repeats within the cooldown', async () => {
  let nowMs = 1_800_000_000_000;
  const harness = await startHarness({ clock: () => nowMs, hitCooldownMs: 60_000 });
  const carId = newCarId();
  const sighting = async (seq: number, plate: string): Promise<void> => {
    await publishEvent(harness, plateEvent(carId, seq, plate, carTimes(nowMs)));
    await waitUntil(() => ingestedFor(harness, carId).length === seq, `event ${seq}`);
  };
  try {
    await sighting(1, HOT_PLATE);
    nowMs += 10_000;
    await sighting(2, HOT_PLATE);
    nowMs += 50_000;
    await sighting(3, HOT_PLATE);
    await sighting(4, OTHER_HOT_PLATE);
    // 61 s after the last sighting of the first plate: a new sighting, so a new hit.
    nowMs += 61_000;
    await sighting(5, HOT_PLATE);

    const carHits = harness.hits.filter((hit) => hit.carId === carId);
    assert.deepEqual(carHits.map((hit) => hit.seq), [1, 4, 5]);
    const carRepeats = harness.repeats.filter((repeat) => repeat.carId === carId);
    assert.deepEqual(carRepeats.map((repeat) => [repeat.seq, repeat.repeatCount]), [[2, 1], [3, 2]]);
    assert.ok(carRepeats.every((repeat) => repeat.hitId === carHits[0]!.hitId));

    const first = await harness.store.getHit(carHits[0]!.hitId);
    assert.ok(first);
    assert.equal(first.repeatCount, 2);
    assert.equal(first.lastSeq, 3);
    assert.equal(first.lastSeenAtMs, 1_800_000_000_000 + 60_000);
    assert.equal((await harness.store.listHitsForCar(carId)).length, 3);
    assert.equal(await counterValue(harness.registry, 'patrol_central_hit_repeats_total', { kind: 'plate' }), 2);
  } finally {
    await harness.close();
  }
});

test('service – raises a face hit above the threshold', async () => {
  const harness = await startHarness({ subjects: [{ subjectId: 'subject-x', label: 'test subject x', embeddings: [new Float32Array(unitEmbedding(3))] }] });
  const carId = newCarId();
  try {
    // cos = 1 / sqrt(1 + 0.5^2) = 0.894 for the close face; 0 for the face along another axis.
    await publishEvent(harness, faceEvent(carId, 1, unitEmbedding(3, 0.5)));
    await publishEvent(harness, faceEvent(carId, 2, unitEmbedding(40)));
    await waitUntil(() => ingestedFor(harness, carId).length === 2, 'both face events');

    const carHits = harness.hits.filter((hit) => hit.carId === carId);
    assert.equal(carHits.length, 1);
    const hit = carHits[0]!;
    assert.equal(hit.kind, 'face');
    assert.equal(hit.seq, 1);
    assert.equal(hit.matchKind, 'cosine');
    assert.deepEqual(hit.matched, { subjectId: 'subject-x', listId: 'default', label: 'test subject x' });
    assert.ok(Math.abs(hit.score - 1 / Math.sqrt(1.25)) < 1e-5, `score ${hit.score}`);
    assert.ok(!harness.logLines.join('\n').includes('test subject x'), 'logs must not contain subject labels');
  } finally {
    await harness.close();
  }
});
