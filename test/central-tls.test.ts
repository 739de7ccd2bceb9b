// The real central service (startCentral, SQLite in a temp folder) on the sample broker setup of
// deploy/mosquitto: TLS with the certificate whose common name is "central", and the shipped ACL.
// Cars connect with their own certificates, publish events and wait for the central receipts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { createBrokerClient } from '../src/central/broker.js';
import { parseCentralConfig } from '../src/central/config.js';
import { startCentral, type RunningCentral } from '../src/central/start.js';
import { parseReceipt, receiptTopic, type Receipt } from '../src/protocol/receipts.js';
import { eventTopic } from '../src/protocol/topics.js';
import { cleanPlate, plateEventFor } from './support/central-load.js';
import { startPatrolBroker, type PatrolBroker } from './support/patrol-broker.js';
import { waitFor } from './support/wait-for.js';

let broker: PatrolBroker;
let workDir = '';
let central: RunningCentral;

before(async () => {
  broker = await startPatrolBroker(['car-0001', 'car-0002', 'central']);
  workDir = mkdtempSync(path.join(tmpdir(), 'central-tls-'));
  writeFileSync(path.join(workDir, 'hotlist.csv'), 'plate,reason,priority\n川A8H458,stolen vehicle,1\n');
  // Relative paths, as in a deployed config: they resolve against the config file's folder.
  const raw = {
    broker: {
      url: broker.url,
      tls: { caFile: 'certs/ca.crt', certFile: 'certs/central.crt', keyFile: 'certs/central.key' },
    },
    database: path.join(workDir, 'central.sqlite'),
    hotlist: path.join(workDir, 'hotlist.csv'),
    http: { port: 0 },
  };
  central = await startCentral(parseCentralConfig(raw, broker.dir, 'central-tls.json'), { logger: pino({ level: 'silent' }) });
});

after(async () => {
  await central?.stop();
  await broker?.dispose();
  rmSync(workDir, { recursive: true, force: true });
});

interface CarConnection {
  client: MqttClient;
  /** Topic and payload of every message delivered, in arrival order. */
  received: Array<{ topic: string; payload: Buffer }>;
}

async function connectCar(carId: string, filter: string): Promise<CarConnection> {
  const client = await mqtt.connectAsync(broker.url, { ...broker.tlsOptions(carId), clientId: `agent-${carId}` });
  const received: CarConnection['received'] = [];
  client.on('message', (topic, payload) => received.push({ topic, payload }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, received };
}

function receiptsFor(car: CarConnection, carId: string): Receipt[] {
  return car.received
    .filter((message) => message.topic === receiptTopic(carId))
    .map((message) => {
      const parsed = parseReceipt(message.payload, carId);
      assert.ok(parsed.ok, `receipt should be valid: ${parsed.ok ? '' : parsed.message}`);
      return parsed.receipt;
    });
}

test('central TLS – stores a car event and receipts it', async () => {
  const car = await connectCar('car-0001', receiptTopic('car-0001'));
  try {
    const event = plateEventFor('car-0001', 1, cleanPlate(1));
    await car.client.publishAsync(eventTopic('car-0001'), JSON.stringify(event), { qos: 1 });

    await waitFor(() => receiptsFor(car, 'car-0001').length > 0, 10_000, 'receipt for car-0001');
    const [receipt] = receiptsFor(car, 'car-0001');
    assert.deepEqual(receipt?.stored, [1]);
    assert.deepEqual(receipt?.rejected, []);

    const stored = await central.store.getEvent('car-0001', 1);
    assert.equal(stored?.kind, 'plate');
    assert.equal(await central.store.countEvents('car-0001'), 1);
  } finally {
    await car.client.endAsync();
  }
});

test('central TLS – car reads only its own receipts', async () => {
  // Mosquitto 2.0 grants a subscription to every car's receipts and applies the read ACL to each
  // delivered message, so a leak would show up as a delivered message, not as a refused subscription.
  const snooper = await connectCar('car-0001', 'patrol/v1/cars/+/receipts');
  const owner = await connectCar('car-0002', receiptTopic('car-0002'));
  try {
    const event = plateEventFor('car-0002', 1, cleanPlate(2));
    await owner.client.publishAsync(eventTopic('car-0002'), JSON.stringify(event), { qos: 1 });

    await waitFor(() => receiptsFor(owner, 'car-0002').length > 0, 10_000, 'receipt for car-0002');
    assert.deepEqual(receiptsFor(owner, 'car-0002')[0]?.stored, [1]);
    // The receipt went out; give the broker time to deliver a copy to car-0001 if the ACL allowed it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(snooper.received.map((message) => message.topic), []);
  } finally {
    await snooper.client.endAsync();
    await owner.client.endAsync();
  }
});

test('central broker client – TLS and password applied', async () => {
  const config = parseCentralConfig(
    { broker: { url: 'mqtts://127.0.0.1:8883', username: 'central', passwordEnv: 'P' }, database: 'central.sqlite', hotlist: 'hotlist.csv' },
    workDir,
  );
  const secrets = { password: 'pw', tls: { ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key') } };
  // Created without connecting (manualConnect), so the options can be read without a broker. It is
  // not ended: it has no socket, and mqtt.js 5 throws when a client that never connected is ended.
  const client = createBrokerClient(config.broker, secrets, pino({ level: 'silent' }));
  assert.equal(client.options.username, 'central');
  assert.equal(client.options.password, 'pw');
  assert.equal(String(client.options.cert), 'cert');
  assert.equal(String(client.options.key), 'key');
  assert.equal(client.options.rejectUnauthorized, true);
  assert.equal(client.options.clean, false, 'the central session stays persistent');
});
