// Builds the agent's MQTT connection from the broker config and its secrets: client id per car,
// password from the environment or a file, TLS with the car's client certificate for mqtts://.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { brokerAuthOptions } from '../../src/common/broker-auth.js';
import type { AgentConfig } from '../config.js';
import { loadBrokerSecrets, type BrokerSecrets } from '../ops/secrets.js';

/** MQTT client id of a car; the broker's ACL patterns may rely on it. */
export function agentClientId(carId: string): string {
  return `agent-${carId}`;
}

/** Options for mqtt.connect; exported so tests can check them without a broker. */
export function brokerClientOptions(config: AgentConfig, secrets: BrokerSecrets): IClientOptions {
  const { broker } = config;
  return {
    protocolVersion: broker.protocolVersion,
    clientId: agentClientId(config.carId),
    // The outbox, not the broker session, keeps what is unsent, so a clean session loses nothing.
    clean: true,
    keepalive: broker.keepaliveSec,
    reconnectPeriod: broker.reconnectPeriodMs,
    connectTimeout: 5000,
    ...brokerAuthOptions(broker.username, secrets),
  };
}

/** Reads the secrets and starts connecting; mqtt.js reconnects on its own after a drop. */
export function connectBroker(config: AgentConfig): MqttClient {
  return mqtt.connect(config.broker.url, brokerClientOptions(config, loadBrokerSecrets(config.broker)));
}
