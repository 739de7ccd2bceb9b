// The sample broker setup in deploy/mosquitto, run on a real Mosquitto that this test starts on a
// free loopback port. It checks TLS with per-car client certificates made by make-certs.sh (openssl)
// and the ACL that lets a car publish only under its own id. The agent connects with its own code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parseAgentConfig } from '../agent/config.js';
import { loadBrokerSecrets } from '../agent/ops/secrets.js';
import { brokerClientOptions } from '../agent/uplink/connect.js';
import { makeCerts, startPatrolBroker, type PatrolBroker } from './support/patrol-broker.js';
import { waitFor } from './support/wait-for.js';

let broker: PatrolBroker;
let dir = '';
let certs = '';
let url = '';

before(async () => {
  broker = await startPatrolBroker(['car-0001', 'car-0002', 'central']);
  ({ dir, certs, url } = broker);
  // A second CA, to check that a certificate it signed is refused.
  makeCerts(path.join(dir, 'rogue'), ['car-0001']);
});

after(async () => {
  await broker?.dispose();
});

async function centralListener(filter: string): Promise<{ client: MqttClient; topics: string[] }> {
  const client = await mqtt.connectAsync(url, broker.tlsOptions('central'));
  const topics: string[] = [];
  client.on('message', (topic) => topics.push(topic));
  const [grant] = await client.subscribeAsync(filter, { qos: 1 });
  assert.equal(grant?.qos, 1, 'the central service may read every car');
  return { client, topics };
}

test('broker TLS – car publishes under its own id', async () => {
  const central = await centralListener('patrol/v1/cars/+/events');
  const config = parseAgentConfig(
    {
      carId: 'car-0001',
      broker: { url, tls: { caFile: path.join(certs, 'ca.crt'), certFile: path.join(certs, 'car-0001.crt'), keyFile: path.join(certs, 'car-0001.key') } },
      cameras: [{ id: 'front', source: 'rtsp://127.0.0.1:8554/front' }],
    },
    'test',
  );
  // The agent's own connection code: secrets from the files named in the config.
  const car = await mqtt.connectAsync(url, { ...brokerClientOptions(config, loadBrokerSecrets(config.broker)), reconnectPeriod: 0 });

  await car.publishAsync('patrol/v1/cars/car-0001/events', '{}', { qos: 1 });
  // Mosquitto replies with PUBACK reason 0x87 (not authorized), which mqtt.js raises as an error.
  await assert.rejects(car.publishAsync('patrol/v1/cars/car-0002/events', '{}', { qos: 1 }), /Not authorized/);

  await waitFor(() => central.topics.length >= 1, 3000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(central.topics, ['patrol/v1/cars/car-0001/events']);
  await car.endAsync();
  await central.client.endAsync();
});

test('broker TLS – car receives only its own replies', async () => {
  // Mosquitto 2.0 grants any subscription and applies the read ACL to each delivered message.
  const car = await mqtt.connectAsync(url, broker.tlsOptions('car-0001'));
  const received: string[] = [];
  car.on('message', (topic) => received.push(topic));
  await car.subscribeAsync(['patrol/v1/cars/+/clock/reply', 'patrol/v1/cars/+/events', 'patrol/v1/lists/+/snapshot'], { qos: 1 });

  const central = await mqtt.connectAsync(url, broker.tlsOptions('central'));
  await central.publishAsync('patrol/v1/cars/car-0002/clock/reply', '{}', { qos: 1 });
  await central.publishAsync('patrol/v1/cars/car-0001/clock/reply', '{}', { qos: 1 });
  await central.publishAsync('patrol/v1/lists/hotlist/snapshot', '{}', { qos: 1 });
  const other = await mqtt.connectAsync(url, broker.tlsOptions('car-0002'));
  await other.publishAsync('patrol/v1/cars/car-0002/events', '{}', { qos: 1 });

  await waitFor(() => received.length >= 2, 3000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(received.sort(), ['patrol/v1/cars/car-0001/clock/reply', 'patrol/v1/lists/hotlist/snapshot']);
  await other.endAsync();
  await central.endAsync();
  await car.endAsync();
});

test('broker TLS – no or foreign certificate refused', async () => {
  const noCertificate: IClientOptions = { protocolVersion: 5, ca: readFileSync(path.join(certs, 'ca.crt')), rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 3000 };
  await assert.rejects(mqtt.connectAsync(url, noCertificate), 'a client without a certificate');
  await assert.rejects(mqtt.connectAsync(url, broker.tlsOptions('car-0001', path.join(dir, 'rogue'))), 'a certificate from another CA');
  await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${broker.mosquitto.port}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000 }), 'plain MQTT on the TLS port');
});
