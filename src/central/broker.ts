// The central service's MQTT connection: a persistent session so events queue in the broker while
// the service is down, the TLS client certificate and password from the broker config, connection
// lifecycle logging, and waiting for the first connection.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { brokerAuthOptions, type BrokerSecrets } from '../common/broker-auth.js';
import type { Logger } from '../common/log.js';
import { redactCredentials } from '../common/log.js';
import type { CentralConfig } from './config.js';

export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    readonly code: 'BROKER_CONNECT_TIMEOUT',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Creates the client without connecting, so the caller can attach its handlers before queued events
 * arrive. `secrets` comes from loadBrokerSecrets, read once for all of the service's connections.
 */
export function createBrokerClient(broker: CentralConfig['broker'], secrets: BrokerSecrets, logger: Logger): MqttClient {
  const options: IClientOptions = {
    protocolVersion: broker.protocolVersion,
    clientId: broker.clientId,
    // A persistent session keeps the subscription and the QoS 1 events sent while the service is down.
    clean: false,
    manualConnect: true,
    reconnectPeriod: 2000,
    connectTimeout: broker.connectTimeoutMs,
    ...brokerAuthOptions(broker.username, secrets),
  };
  if (broker.protocolVersion === 5) options.properties = { sessionExpiryInterval: broker.sessionExpirySec };

  const client = mqtt.connect(broker.url, options);
  logConnectionLifecycle(client, redactCredentials(broker.url), logger);
  return client;
}

/** Logs one line per connect, disconnect and first error of an outage; retries are not logged again. */
function logConnectionLifecycle(client: MqttClient, safeUrl: string, logger: Logger): void {
  let online = false;
  let errorLoggedThisOutage = false;

  client.on('connect', (connack) => {
    online = true;
    errorLoggedThisOutage = false;
    logger.info({ broker: safeUrl, sessionPresent: connack.sessionPresent }, 'broker connected');
  });
  client.on('offline', () => {
    if (online) logger.warn({ broker: safeUrl }, 'broker connection lost; reconnecting');
    online = false;
  });
  client.on('error', (error) => {
    if (errorLoggedThisOutage) return;
    errorLoggedThisOutage = true;
    logger.warn({ broker: safeUrl, err: { message: redactCredentials(error.message), code: (error as NodeJS.ErrnoException).code } }, 'broker connection error');
  });
}

/** Resolves at the first successful connection; rejects after timeoutMs. */
export function waitForConnection(client: MqttClient, timeoutMs: number, safeUrl: string): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('connect', onConnect);
      reject(new BrokerError('BROKER_CONNECT_TIMEOUT', `could not connect to the broker at ${safeUrl} within ${timeoutMs} ms; check broker.url and that the broker is running`));
    }, timeoutMs);
    const onConnect = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('connect', onConnect);
  });
}
