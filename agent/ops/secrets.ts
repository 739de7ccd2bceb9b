// Reads the broker's secrets at start: the password from an environment variable or a file, and the
// TLS key and certificates from files. The reading is shared with the central service
// (src/common/broker-auth.ts). Errors name the variable or file, never the secret's content.
import { loadBrokerSecrets as loadSecrets, systemSecretSources, type BrokerSecrets, type SecretSources } from '../../src/common/broker-auth.js';
import type { AgentConfig } from '../config.js';

export { SecretError, type BrokerSecrets, type SecretSources } from '../../src/common/broker-auth.js';

/** Resolves every secret the broker section names; throws SecretError for the first one missing. */
export function loadBrokerSecrets(broker: AgentConfig['broker'], sources: SecretSources = systemSecretSources): BrokerSecrets {
  return loadSecrets(broker, 'agent', sources);
}
