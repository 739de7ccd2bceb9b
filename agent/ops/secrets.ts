// Reads the broker's secrets at start: the password from an environment variable or a file, and the
// TLS key and certificates from files. Errors name the variable or file, never the secret's content.
import { readFileSync } from 'node:fs';
import type { AgentConfig } from '../config.js';

export class SecretError extends Error {
  override readonly name = 'SecretError';
  constructor(
    readonly code: 'SECRET_ENV_MISSING' | 'SECRET_FILE_UNREADABLE' | 'SECRET_EMPTY',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BrokerSecrets {
  password?: string;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  readFile: (file: string) => Buffer;
}

const systemSources: SecretSources = { env: process.env, readFile: (file) => readFileSync(file) };

/** Resolves every secret the broker section names; throws SecretError for the first one missing. */
export function loadBrokerSecrets(broker: AgentConfig['broker'], sources: SecretSources = systemSources): BrokerSecrets {
  const secrets: BrokerSecrets = {};
  if (broker.passwordEnv !== undefined) {
    const value = sources.env[broker.passwordEnv];
    if (value === undefined) {
      throw new SecretError('SECRET_ENV_MISSING', `environment variable ${broker.passwordEnv} (broker.passwordEnv) is not set; set it, e.g. in the unit's EnvironmentFile`);
    }
    secrets.password = nonEmpty(value, `environment variable ${broker.passwordEnv}`);
  }
  if (broker.passwordFile !== undefined) {
    const text = readSecretFile(broker.passwordFile, 'broker.passwordFile', sources).toString('utf8').replace(/\r?\n$/, '');
    secrets.password = nonEmpty(text, `file ${broker.passwordFile}`);
  }
  if (broker.tls !== undefined) {
    secrets.tls = {
      ca: readSecretFile(broker.tls.caFile, 'broker.tls.caFile', sources),
      cert: readSecretFile(broker.tls.certFile, 'broker.tls.certFile', sources),
      key: readSecretFile(broker.tls.keyFile, 'broker.tls.keyFile', sources),
    };
  }
  return secrets;
}

function readSecretFile(file: string, field: string, sources: SecretSources): Buffer {
  let content: Buffer;
  try {
    content = sources.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SecretError('SECRET_FILE_UNREADABLE', `cannot read ${file} (${field}): ${code}; check the path and that the agent's user may read it`, { cause: error });
  }
  if (content.length === 0) throw new SecretError('SECRET_EMPTY', `${file} (${field}) is empty`);
  return content;
}

function nonEmpty(value: string, where: string): string {
  if (value.length === 0) throw new SecretError('SECRET_EMPTY', `${where} is empty; it should hold the broker password`);
  return value;
}
