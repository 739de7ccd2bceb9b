// Starts a CentralService on the real Mosquitto with a given store, collecting what it emits, for the
// tests and the benchmark that run one or several instances.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Logger } from '../../src/common/log.js';
import type { Hit } from '../../src/central/hit.js';
import { ListManager, type HotlistEntryRequest } from '../../src/central/lists/list-manager.js';
import { CentralService, type IngestedEvent, type RejectedMessage } from '../../src/central/service.js';
import type { CentralStore, StoredSubject } from '../../src/central/store/store.js';

export const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';

export interface Instance {
  service: CentralService;
  lists: ListManager;
  registry: Registry;
  client: MqttClient;
  hits: Hit[];
  ingested: IngestedEvent[];
  rejected: RejectedMessage[];
  /** Messages handled so far: ingested plus rejected plus status messages stored. */
  handled(): number;
  stop(): Promise<void>;
}

export interface InstanceOptions {
  store: CentralStore;
  shareGroup: string;
  hotlist?: HotlistEntryRequest[];
  subjects?: Omit<StoredSubject, 'source' | 'enrolledBy' | 'enrolledAtMs'>[];
  faceThreshold?: number;
  hitCooldownMs?: number;
  clock?: () => number;
  logger?: Logger;
  /** Skip writing the config lists, for a second instance on a store the first one set up. */
  skipListSync?: boolean;
  /** Broker connections that ingest (default 1). */
  connections?: number;
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const lists = new ListManager({ store: options.store, logger, clock: options.clock });
  if (options.skipListSync === true) {
    await lists.refresh();
  } else {
    await lists.syncConfig({ hotlist: options.hotlist ?? [], faceLists: [{ listId: 'default', threshold: options.faceThreshold ?? 0.4 }], subjects: options.subjects ?? [] });
  }

  const connect = (): Promise<MqttClient> => mqtt.connectAsync(BROKER_URL, { protocolVersion: 5, clean: true, clientId: `central-test-${randomBytes(4).toString('hex')}` });
  const client = await connect();
  const ingestClients = await Promise.all(Array.from({ length: (options.connections ?? 1) - 1 }, connect));
  const registry = new Registry();
  const service = new CentralService({
    client,
    ingestClients,
    store: options.store,
    lists,
    logger,
    registry,
    clock: options.clock,
    hitCooldownMs: options.hitCooldownMs,
    shareGroup: options.shareGroup,
  });
  let statuses = 0;
  const instance: Instance = {
    service,
    lists,
    registry,
    client,
    hits: [],
    ingested: [],
    rejected: [],
    handled: () => instance.ingested.length + instance.rejected.length + statuses,
    async stop() {
      await Promise.all([client, ...ingestClients].map((connection) => connection.endAsync()));
      await service.stop();
    },
  };
  service.on('hit', (hit) => instance.hits.push(hit));
  service.on('ingested', (event) => instance.ingested.push(event));
  service.on('rejected', (rejection) => instance.rejected.push(rejection));
  service.on('status', () => statuses++);
  await service.start();
  return instance;
}

export async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  return values.filter((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected)).reduce((sum, value) => sum + value.value, 0);
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
