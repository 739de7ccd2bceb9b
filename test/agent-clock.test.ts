// Clock offset measurement between a car and the central service through a private Mosquitto: the
// central clock is skewed on purpose and the car must measure that skew.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { ClockSync } from '../agent/clock/clock-sync.js';
import { startClockResponder } from '../src/central/clock-responder.js';
import { clockReplyTopic, clockRequestTopic, clockSampleOf } from '../src/protocol/clock.js';
import { startMosquitto, type RunningMosquitto } from './support/mosquitto.js';

const silent = pino({ level: 'silent' });
let broker: RunningMosquitto;

before(async () => {
  broker = await startMosquitto();
});

after(async () => {
  await broker.dispose();
});

test('clock sample – offset and round trip from four timestamps', () => {
  // Car sends at 1000, central (ahead by 500) receives at 1510 and replies at 1512, car receives at 1022.
  const sample = clockSampleOf({ v: 1, id: 'x', t1: 1000, t2: 1510, t3: 1512 }, 1022);
  assert.equal(sample.offsetMs, 500);
  assert.equal(sample.roundTripMs, 20);
});

test('clock sync – measures a skewed central clock', async () => {
  const skewMs = 5_000;
  const central = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const stopResponder = await startClockResponder(central, { logger: silent, clock: () => Date.now() + skewMs, shareGroup: 'central' });
  const car = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const samples: number[] = [];
  const sync = new ClockSync({ client: car, carId: 'car-clock-1', logger: silent, intervalMs: 60_000, replyTimeoutMs: 2000, onSample: (sample) => samples.push(sample.offsetMs) });
  sync.start();

  await waitFor(() => samples.length >= 4, 5000);
  const offset = sync.offsetMs();
  assert.ok(offset !== null);
  const roundTripMs = sync.current()!.roundTripMs;
  assert.ok(roundTripMs >= 0, `round trip ${roundTripMs} ms should not be negative`);
  assert.ok(Math.abs(offset - skewMs) <= roundTripMs / 2 + 5, `offset ${offset} ms should be ${skewMs} ms within half the round trip (${roundTripMs} ms)`);

  sync.stop();
  await stopResponder();
  await car.endAsync();
  await central.endAsync();
});

test('clock responder – other messages reach the service handler', async () => {
  const central = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const passedOn: string[] = [];
  const serviceHandler: MqttClient['handleMessage'] = (packet, callback) => {
    passedOn.push(packet.topic);
    callback();
  };
  central.handleMessage = serviceHandler;
  await central.subscribeAsync('patrol/v1/cars/+/events', { qos: 1 });
  const stopResponder = await startClockResponder(central, { logger: silent, shareGroup: null });

  const car = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const replies: string[] = [];
  await car.subscribeAsync(clockReplyTopic('car-clock-2'), { qos: 0 });
  car.on('message', (topic) => replies.push(topic));
  await car.publishAsync('patrol/v1/cars/car-clock-2/events', '{}', { qos: 1 });
  await car.publishAsync(clockRequestTopic('car-clock-2'), JSON.stringify({ v: 1, id: 'r1', t1: Date.now() }), { qos: 0 });
  await car.publishAsync(clockRequestTopic('car-clock-2'), 'not json', { qos: 0 });

  await waitFor(() => replies.length >= 1 && passedOn.length >= 1, 5000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(passedOn, ['patrol/v1/cars/car-clock-2/events'], 'only the event reaches the service handler');
  assert.equal(replies.length, 1, 'one reply for the valid request, none for the invalid one');

  await stopResponder();
  assert.equal(central.handleMessage, serviceHandler, 'the handler installed before is restored');
  await car.endAsync();
  await central.endAsync();
});

test('clock sync – reply to an unknown request ignored', async () => {
  const car = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const sync = new ClockSync({ client: car, carId: 'car-clock-3', logger: silent, intervalMs: 60_000, replyTimeoutMs: 2000, burst: 0 });
  sync.start();
  const other: MqttClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  await other.publishAsync(clockReplyTopic('car-clock-3'), JSON.stringify({ v: 1, id: 'forged', t1: 1, t2: 2, t3: 3 }), { qos: 0 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sync.offsetMs(), null);
  sync.stop();
  await other.endAsync();
  await car.endAsync();
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
