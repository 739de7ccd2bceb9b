// The central service at fleet scale on the real Mosquitto: two instances sharing one PostgreSQL
// database split the traffic through a shared subscription and store every event once; 10,000
// hostile payloads are each rejected and counted without stopping the service; car status messages
// feed the fleet view and correct later events' clocks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { eventTopic, statusTopic } from '../src/protocol/topics.js';
import { HOSTILE_KIND_COUNT, cleanPlate, hostileMessages, plateEventFor, publishPaced, waitUntil, type OutgoingMessage } from './support/central-load.js';
import { openTestStore } from './support/central-stores.js';
import { BROKER_URL, counterValue, startInstance, uniqueId } from './support/central-instance.js';

const HOT_PLATE = '川A8H458';

test('fleet – two instances split the load, store once', async () => {
  const database = await openTestStore('postgres');
  const secondStore = await database.reopen();
  const shareGroup = uniqueId('test');
  const first = await startInstance({ store: database.store, shareGroup, hotlist: [{ plate: HOT_PLATE, reason: 'stolen vehicle', priority: 1 }], hitCooldownMs: 0 });
  const second = await startInstance({ store: secondStore, shareGroup, skipListSync: true, hitCooldownMs: 0 });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  try {
    const cars = [uniqueId('car'), uniqueId('car'), uniqueId('car'), uniqueId('car')];
    const messages: OutgoingMessage[] = [];
    for (let seq = 1; seq <= 100; seq++) {
      for (const carId of cars) {
        const text = seq % 10 === 0 ? HOT_PLATE : cleanPlate(seq);
        messages.push({ topic: eventTopic(carId), payload: JSON.stringify(plateEventFor(carId, seq, text)) });
      }
    }
    // Every tenth event of each car is delivered twice, as a car resends after a lost acknowledgement.
    const resent = messages.filter((_, index) => index % 10 === 3);
    const handled = (): number => first.handled() + second.handled();
    await publishPaced(publisher, [...messages, ...resent], handled);
    await waitUntil(() => handled() === messages.length + resent.length, 'every delivery to be handled', 20_000);

    assert.ok(first.ingested.length > 0, 'the first instance should receive a share');
    assert.ok(second.ingested.length > 0, 'the second instance should receive a share');
    const all = [...first.ingested, ...second.ingested];
    assert.equal(all.filter((event) => !event.duplicate).length, 400, 'each event is stored by exactly one instance');
    assert.equal(all.filter((event) => event.duplicate).length, resent.length);
    for (const carId of cars) assert.equal(await database.store.countEvents(carId), 100);
    assert.equal(first.hits.length + second.hits.length, 40, 'one hit per hotlisted event');
  } finally {
    await publisher.endAsync();
    await first.stop();
    await second.stop();
    await database.cleanup();
  }
});

test('fleet – 10,000 hostile payloads rejected and counted', async () => {
  const database = await openTestStore('sqlite');
  const instance = await startInstance({ store: database.store, shareGroup: uniqueId('test') });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const prefix = uniqueId('hostile');
  try {
    const messages = hostileMessages(10_000, prefix);
    await publishPaced(publisher, messages, () => instance.handled(), { timeoutMs: 50_000 });
    await waitUntil(() => instance.handled() === messages.length, 'every hostile message to be handled', 20_000);

    assert.equal(instance.rejected.length, 10_000, 'each hostile message is rejected once');
    assert.equal(instance.ingested.length, 0, 'none is stored');
    const codes = new Set(instance.rejected.map((rejection) => rejection.code));
    for (const code of ['EVENT_INVALID', 'EVENT_TOO_LARGE', 'EVENT_NOT_JSON', 'EVENT_TOPIC_MISMATCH', 'STATUS_INVALID', 'STATUS_TOPIC_MISMATCH']) {
      assert.ok(codes.has(code as never), `rejection code ${code} should occur`);
    }
    assert.equal(await counterValue(instance.registry, 'patrol_central_events_rejected_total'), 10_000);
    assert.equal(HOSTILE_KIND_COUNT * Math.ceil(10_000 / HOSTILE_KIND_COUNT) >= 10_000, true);

    // The service is still alive and stores the next valid event.
    const carId = uniqueId('car');
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(plateEventFor(carId, 1, cleanPlate(1))), { qos: 1 });
    await waitUntil(() => instance.ingested.some((event) => event.carId === carId), 'a valid event after the hostile ones');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a __proto__ key must not pollute Object.prototype');
  } finally {
    await publisher.endAsync();
    await instance.stop();
    await database.cleanup();
  }
});

test('fleet – status feeds fleet view and clocks', async () => {
  const database = await openTestStore('sqlite');
  let nowMs = 1_800_000_000_000;
  const instance = await startInstance({ store: database.store, shareGroup: uniqueId('test'), clock: () => nowMs });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const carId = uniqueId('car');
  try {
    const status = { v: 1, kind: 'status', carId, sentAtMs: nowMs - 4000, clockOffsetMs: 4000, outboxBacklog: 12, cameras: [{ cameraId: 'cam1', state: 'up', analysedFps: 7.5 }, { cameraId: 'cam2', state: 'down', analysedFps: 0 }] };
    await publisher.publishAsync(statusTopic(carId), JSON.stringify(status), { qos: 1 });
    await waitUntil(() => instance.handled() === 1, 'the status message');

    const car = (await database.store.listFleetStatus()).find((entry) => entry.carId === carId);
    assert.ok(car, 'the car should appear in the fleet view');
    assert.equal(car.lastContactAtMs, nowMs);
    assert.equal(car.outboxBacklog, 12);
    assert.equal(car.analysedFps, 7.5);
    assert.deepEqual(car.cameras.map((camera) => camera.state), ['up', 'down']);

    // An event without its own offset is corrected with the one from the status message.
    nowMs += 1000;
    const event = plateEventFor(carId, 1, cleanPlate(1), nowMs - 4000, null);
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(event), { qos: 1 });
    await waitUntil(() => instance.ingested.length === 1, 'the event');
    const [summary] = await database.store.searchEvents({ carId });
    assert.equal(summary?.frameAtMs, event.frameReceivedAtMs + 4000);
  } finally {
    await publisher.endAsync();
    await instance.stop();
    await database.cleanup();
  }
});
