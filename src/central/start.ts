// Starts a complete central service from a validated config: hotlist, watchlist enrolment, store,
// broker connection, ingest service and HTTP endpoints, and stops them again in reverse order.
import type { MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import { createLogger, redactCredentials, type Logger } from '../common/log.js';
import { Hotlist, loadHotlistFile, parseHotlistEntries } from '../matching/hotlist.js';
import { Watchlist } from '../matching/watchlist.js';
import { enrolSubject, type FaceEmbedder } from '../matching/enrolment.js';
import { CascadeFaceEmbedder } from '../matching/cascade-embedder.js';
import { createBrokerClient, waitForConnection } from './broker.js';
import type { CentralConfig } from './config.js';
import { startHttpServer } from './http.js';
import { CentralService } from './service.js';
import { CentralStore } from './store.js';

export interface CentralDeps {
  logger?: Logger;
  registry?: Registry;
  /** Central clock in ms since the epoch. */
  clock?: () => number;
  /** Face embedder for enrolment; by default the vision cascade is loaded from config.modelsDir. */
  embedder?: FaceEmbedder;
  /** Client to use instead of connecting to config.broker.url; the caller owns it and ends it. */
  client?: MqttClient;
}

export interface RunningCentral {
  service: CentralService;
  store: CentralStore;
  hotlist: Hotlist;
  watchlist: Watchlist;
  /** Base URL of /metrics and /healthz. */
  httpUrl: string;
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
  const hotlist = typeof config.hotlist === 'string' ? loadHotlistFile(config.hotlist) : new Hotlist(parseHotlistEntries(config.hotlist, 'config hotlist'));
  const watchlist = await enrolWatchlist(config, deps.embedder, logger);
  logger.info({ hotlistEntries: hotlist.size, watchlistSubjects: watchlist.size }, 'lists loaded');

  const cleanups: Cleanup[] = [];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  };

  try {
    const store = new CentralStore(config.database);
    cleanups.push(() => store.close());

    const client = deps.client ?? createBrokerClient(config.broker, logger);
    const service = new CentralService({ client, store, hotlist, watchlist, logger, clock: deps.clock, registry: deps.registry, hitCooldownMs: config.hitCooldownMs });
    cleanups.push(() => service.stop());
    // Pushed last so it runs first: a message reaching a connected client after service.stop() would
    // be acknowledged but never stored.
    if (deps.client === undefined) cleanups.push(() => client.endAsync());
    await connectAndSubscribe(service, client, config, deps.client === undefined);

    const http = await startHttpServer({
      port: config.http.port,
      registry: service.metrics.registry,
      health: () => ({ brokerConnected: client.connected, databaseOpen: store.isOpen }),
      logger,
    });
    cleanups.push(() => http.close());

    return { service, store, hotlist, watchlist, httpUrl: http.url, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Attaches the service before connecting, so events the broker queued for this session are not missed. */
async function connectAndSubscribe(service: CentralService, client: MqttClient, config: CentralConfig, ownsClient: boolean): Promise<void> {
  const started = service.start();
  // Handled below; this only keeps a rejection during the connect wait from being reported as unhandled.
  started.catch(() => undefined);
  if (ownsClient) client.connect();
  await waitForConnection(client, config.broker.connectTimeoutMs, redactCredentials(config.broker.url));
  await started;
}

/** Enrols every configured subject, loading the vision cascade from modelsDir unless an embedder is given. */
async function enrolWatchlist(config: CentralConfig, providedEmbedder: FaceEmbedder | undefined, logger: Logger): Promise<Watchlist> {
  const watchlist = new Watchlist([], { threshold: config.faceThreshold });
  if (config.watchlist.length === 0) return watchlist;

  if (providedEmbedder !== undefined) {
    await enrolSubjects(config, providedEmbedder, watchlist);
    return watchlist;
  }
  if (config.modelsDir === undefined) {
    throw new StartError('CENTRAL_NO_EMBEDDER', 'the watchlist is not empty but neither modelsDir nor a face embedder was given; set modelsDir');
  }
  const loaded = await CascadeFaceEmbedder.load(config.modelsDir, { logger });
  try {
    await enrolSubjects(config, loaded, watchlist);
  } finally {
    await loaded.close();
  }
  return watchlist;
}

async function enrolSubjects(config: CentralConfig, embedder: FaceEmbedder, watchlist: Watchlist): Promise<void> {
  for (const subject of config.watchlist) {
    watchlist.add(await enrolSubject(subject, embedder, { minQuality: config.enrolMinQuality }));
  }
}
