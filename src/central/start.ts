// Starts a complete central service from a validated config: store, lists (config sync and
// enrolment), broker connection, ingest service, list publishing, retention and HTTP endpoints, and
// stops them again in reverse order.
import type { MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import { loadBrokerSecrets } from '../common/broker-auth.js';
import { createLogger, redactCredentials, type Logger } from '../common/log.js';
import { loadHotlistFile, parseHotlistEntries, type HotlistEntry } from '../matching/hotlist.js';
import { enrolSubject, type FaceEmbedder } from '../matching/enrolment.js';
import { DEFAULT_FACE_LIST_ID } from '../matching/face-index.js';
import { LazyCascadeFaceEmbedder } from '../matching/lazy-embedder.js';
import { createBrokerClient, waitForConnection } from './broker.js';
import { startClockResponder } from './clock-responder.js';
import type { CentralConfig } from './config.js';
import { startHttpServer } from './http.js';
import { ListManager } from './lists/list-manager.js';
import { ListPublisher, loadSigningKey } from './lists/list-publisher.js';
import { RetentionJob } from './retention.js';
import { CentralService } from './service.js';
import { describeDatabase, openStore } from './store/open-store.js';
import type { CentralStore } from './store/store.js';
import { startCommandCentreForService } from './web/start-web.js';

export interface CentralDeps {
  logger?: Logger;
  registry?: Registry;
  /** Central clock in ms since the epoch. */
  clock?: () => number;
  /** Face embedder for enrolment; by default the vision cascade is loaded from config.modelsDir when first needed. */
  embedder?: FaceEmbedder;
  /** Client to use instead of connecting to config.broker.url; the caller owns it and ends it. */
  client?: MqttClient;
}

export interface RunningCentral {
  service: CentralService;
  store: CentralStore;
  lists: ListManager;
  retention: RetentionJob;
  /** The main broker connection (hits, lists, receipts); stop() ends it unless the caller gave it. */
  client: MqttClient;
  /** Base URL of /metrics and /healthz. */
  httpUrl: string;
  /** Base URL of the command-centre page, or null when config.web.enabled is false. */
  webUrl: string | null;
  stop(): Promise<void>;
}

export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    readonly code: 'CENTRAL_NO_EMBEDDER',
    message: string,
  ) {
    super(message);
  }
}

type Cleanup = () => unknown;

/** Starts the central service; on failure, whatever was already started is stopped before the error is thrown. */
export async function startCentral(config: CentralConfig, deps: CentralDeps = {}): Promise<RunningCentral> {
  const logger = deps.logger ?? createLogger('central');
  const clock = deps.clock ?? Date.now;
  const hotlist = configHotlist(config);
  const signingKey = config.lists.signingKeyFile === undefined ? null : loadSigningKey(config.lists.signingKeyFile);
  // Read before anything starts, so a missing password or certificate stops the start with its name.
  const brokerSecrets = loadBrokerSecrets(config.broker, 'central service');

  const cleanups: Cleanup[] = [];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  };

  try {
    const embedder = embedderFor(config, deps.embedder, logger, cleanups);
    const store = await openStore(config.database);
    cleanups.push(() => store.close());
    logger.info(describeDatabase(config.database), 'store opened');

    // Lists are loaded before the first event can arrive, so queued events are matched against them.
    const lists = new ListManager({ store, logger, clock, embedder: embedder ?? undefined, minEnrolmentQuality: config.enrolMinQuality });
    await syncConfigLists(config, lists, hotlist, embedder);

    const client = deps.client ?? createBrokerClient(config.broker, brokerSecrets, logger);
    const ingestClients = Array.from({ length: config.broker.ingestConnections - 1 }, (_, index) =>
      createBrokerClient({ ...config.broker, clientId: `${config.broker.clientId}-${index + 2}` }, brokerSecrets, logger),
    );
    const shareGroup = config.broker.protocolVersion === 5 ? config.broker.shareGroup : null;
    const service = new CentralService({ client, ingestClients, store, lists, logger, clock, registry: deps.registry, hitCooldownMs: config.hitCooldownMs, shareGroup });
    cleanups.push(() => service.stop());
    // Pushed last so they run first: a message reaching a connected client after service.stop() would
    // be acknowledged but never stored.
    if (deps.client === undefined) cleanups.push(() => client.endAsync());
    for (const ingestClient of ingestClients) cleanups.push(() => ingestClient.endAsync());
    await connectAndSubscribe(service, [...(deps.client === undefined ? [client] : []), ...ingestClients], client, config);
    cleanups.push(await startClockResponder(client, { logger, clock, shareGroup }));

    await startListPublishing(lists, client, signingKey, config, logger, clock);
    cleanups.push(() => lists.stopPolling());

    const retention = new RetentionJob({ store, retention: config.retention, metrics: service.metrics, logger, clock });
    retention.start();
    cleanups.push(() => retention.stop());

    const http = await startHttpServer({
      port: config.http.port,
      registry: service.metrics.registry,
      health: () => ({ brokerConnected: client.connected, databaseOpen: store.isOpen }),
      logger,
    });
    cleanups.push(() => http.close());

    const web = config.web.enabled ? await startCommandCentreForService(config.web, { store, service, lists, logger, clock }) : null;
    if (web !== null) cleanups.push(() => web.close());

    return { service, store, lists, retention, client, httpUrl: http.url, webUrl: web?.url ?? null, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function configHotlist(config: CentralConfig): HotlistEntry[] {
  return typeof config.hotlist === 'string' ? loadHotlistFile(config.hotlist).entries() : parseHotlistEntries(config.hotlist, 'config hotlist');
}

/** Returns the given embedder, a lazily loaded cascade when modelsDir is set, or null when enrolment is impossible. */
function embedderFor(config: CentralConfig, provided: FaceEmbedder | undefined, logger: Logger, cleanups: Cleanup[]): FaceEmbedder | null {
  if (provided !== undefined) return provided;
  if (config.modelsDir === undefined) {
    if (config.watchlist.length > 0) throw new StartError('CENTRAL_NO_EMBEDDER', 'the watchlist is not empty but neither modelsDir nor a face embedder was given; set modelsDir');
    return null;
  }
  const lazy = new LazyCascadeFaceEmbedder(config.modelsDir, logger);
  cleanups.push(() => lazy.close());
  return lazy;
}

/** Enrols the config's subjects and makes the store's config-sourced lists equal to the config. */
async function syncConfigLists(config: CentralConfig, lists: ListManager, hotlist: HotlistEntry[], embedder: FaceEmbedder | null): Promise<void> {
  if (config.watchlist.length > 0 && embedder instanceof LazyCascadeFaceEmbedder) await embedder.preload();
  const subjects = [];
  for (const subject of config.watchlist) {
    // Checked by embedderFor: a non-empty watchlist always has an embedder.
    const enrolled = await enrolSubject(subject, embedder!, { minQuality: config.enrolMinQuality });
    subjects.push({ ...enrolled, listId: subject.listId });
  }
  const faceLists = [{ listId: DEFAULT_FACE_LIST_ID, threshold: config.faceThreshold }, ...config.faceLists];
  await lists.syncConfig({ hotlist, faceLists, subjects });
}

async function startListPublishing(
  lists: ListManager,
  client: MqttClient,
  signingKey: ReturnType<typeof loadSigningKey> | null,
  config: CentralConfig,
  logger: Logger,
  clock: () => number,
): Promise<void> {
  if (signingKey === null) {
    logger.warn('lists.signingKeyFile is not set; hotlist and watchlist are not published to the cars');
  } else {
    await lists.attachPublisher(new ListPublisher(client, signingKey, logger, clock));
  }
  lists.startPolling(config.lists.pollIntervalMs);
}

/** Attaches the service before connecting, so events the broker queued for this session are not missed. */
async function connectAndSubscribe(service: CentralService, clientsToConnect: MqttClient[], mainClient: MqttClient, config: CentralConfig): Promise<void> {
  const started = service.start();
  // Handled below; this only keeps a rejection during the connect wait from being reported as unhandled.
  started.catch(() => undefined);
  for (const client of clientsToConnect) client.connect();
  const safeUrl = redactCredentials(config.broker.url);
  await Promise.all([mainClient, ...clientsToConnect].map((client) => waitForConnection(client, config.broker.connectTimeoutMs, safeUrl)));
  await started;
}
