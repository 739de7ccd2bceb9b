// Broker authentication shared by the agent and the central service: the config fields (TLS client
// certificate, username, password source), the rules on them, reading the secrets at start and the
// matching mqtt.js options. A config file names the environment variables and files that contain
// the secrets, never the secrets themselves. Errors name the variable or file, never the secret.
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';
import { redactCredentials } from './log.js';

/** Client TLS for mqtts://: file paths only, because the key is a secret and never lives in the config file. */
export const BrokerTlsSchema = z.strictObject({
  /** PEM CA certificate that signed the broker's certificate. */
  caFile: z.string().min(1),
  /**
   * PEM client certificate. With Mosquitto's use_identity_as_username its common name is the MQTT
   * username: the car id for a car, "central" for the central service.
   */
  certFile: z.string().min(1),
  /** PEM private key of the client certificate. */
  keyFile: z.string().min(1),
});

export type BrokerTls = z.infer<typeof BrokerTlsSchema>;

/** The credential fields of a `broker` config section, to spread into its schema. */
export const brokerAuthFields = {
  username: z.string().min(1).optional(),
  /** Environment variable holding the broker password. */
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'should be an environment variable name').optional(),
  /** File holding the broker password (trailing newline ignored), e.g. a systemd credential. */
  passwordFile: z.string().min(1).optional(),
  tls: BrokerTlsSchema.optional(),
};

/** The parts of a parsed `broker` section that this module reads. */
export interface BrokerAuthConfig {
  url: string;
  username?: string | undefined;
  passwordEnv?: string | undefined;
  passwordFile?: string | undefined;
  tls?: BrokerTls | undefined;
}

/** Rule for broker.url: credentials in the URL would put a password in the config file. */
export const URL_CREDENTIALS_RULE = 'should not contain a user name or password; use broker.username and passwordEnv or passwordFile';

/**
 * Returns what is wrong with the host and port of a broker URL whose scheme is already checked, or
 * null. A URL like `mqtt://` or one with a space would otherwise reach mqtt.js, which connects to
 * localhost or crashes on a port above 65535.
 */
export function brokerAddressProblem(url: string): string | null {
  if (/\s/.test(url)) return 'should not contain spaces';
  const port = /^[a-z]+:\/\/[^/?#]*:(-?\d+)(?:[/?#]|$)/i.exec(url)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return 'should have a port from 1 to 65535';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'should be a valid URL such as mqtt://broker.example:1883';
  }
  if (parsed.hostname === '') return 'should name a host, as in mqtt://broker.example:1883';
  return null;
}

/** Returns true when a URL carries a user name or password, as in mqtt://user:pw@host. */
export function urlHasCredentials(url: string): boolean {
  return /^[a-z]+:\/\/[^/]*@/i.test(url);
}

/**
 * Checks the rules that span several broker fields. Returns one line per problem, each starting with
 * the field (`broker`, `broker.username`, `broker.url`) and saying what is expected.
 */
export function brokerAuthProblems(broker: BrokerAuthConfig): string[] {
  const problems: string[] = [];
  if (broker.passwordEnv !== undefined && broker.passwordFile !== undefined) {
    problems.push('broker: set either passwordEnv or passwordFile, not both');
  }
  if ((broker.passwordEnv !== undefined || broker.passwordFile !== undefined) && broker.username === undefined) {
    problems.push('broker.username: should be set when a password is configured (got nothing)');
  }
  const secure = /^(mqtts|ssl|wss):\/\//.test(broker.url);
  if (broker.tls !== undefined && !secure) {
    problems.push(`broker.url: should start with mqtts:// or wss:// when broker.tls is set (got ${JSON.stringify(redactCredentials(broker.url))})`);
  }
  return problems;
}

const SECRET_KEY = /^(password|passphrase|secret|token|privateKey|key)$/i;

/** Returns the paths of keys that look like inline secrets, such as broker.password, anywhere in a raw config. */
export function findInlineSecrets(raw: unknown, prefix = ''): string[] {
  if (raw === null || typeof raw !== 'object') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const field = prefix === '' ? key : `${prefix}.${key}`;
    if (SECRET_KEY.test(key) && typeof value === 'string') found.push(field);
    else found.push(...findInlineSecrets(value, field));
  }
  return found;
}

/** Formats the config problem for one inline secret found by findInlineSecrets; the value is never shown. */
export function inlineSecretProblem(field: string): string {
  return `${field}: secrets never live in the config file; name an environment variable (${field}Env) or a file (${field}File) instead`;
}

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

/** Sources of secrets: the process environment and the file system, or fakes in tests. */
export interface SecretSources {
  env: NodeJS.ProcessEnv;
  readFile: (file: string) => Buffer;
}

export const systemSecretSources: SecretSources = { env: process.env, readFile: (file) => readFileSync(file) };

/**
 * Resolves every secret the broker section names; throws SecretError for the first one missing.
 * `service` names the program in the hint of an unreadable file ("the agent's user may read it").
 */
export function loadBrokerSecrets(broker: BrokerAuthConfig, service: string, sources: SecretSources = systemSecretSources): BrokerSecrets {
  const secrets: BrokerSecrets = {};
  if (broker.passwordEnv !== undefined) {
    const value = sources.env[broker.passwordEnv];
    if (value === undefined) {
      throw new SecretError('SECRET_ENV_MISSING', `environment variable ${broker.passwordEnv} (broker.passwordEnv) is not set; set it, e.g. in the unit's EnvironmentFile`);
    }
    secrets.password = nonEmpty(value, `environment variable ${broker.passwordEnv}`);
  }
  if (broker.passwordFile !== undefined) {
    const text = readSecretFile(broker.passwordFile, 'broker.passwordFile', service, sources).toString('utf8').replace(/\r?\n$/, '');
    secrets.password = nonEmpty(text, `file ${broker.passwordFile}`);
  }
  if (broker.tls !== undefined) {
    secrets.tls = {
      ca: readSecretFile(broker.tls.caFile, 'broker.tls.caFile', service, sources),
      cert: readSecretFile(broker.tls.certFile, 'broker.tls.certFile', service, sources),
      key: readSecretFile(broker.tls.keyFile, 'broker.tls.keyFile', service, sources),
    };
  }
  return secrets;
}

function readSecretFile(file: string, field: string, service: string, sources: SecretSources): Buffer {
  let content: Buffer;
  try {
    content = sources.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SecretError('SECRET_FILE_UNREADABLE', `cannot read ${file} (${field}): ${code}; check the path and that the ${service}'s user may read it`, { cause: error });
  }
  if (content.length === 0) throw new SecretError('SECRET_EMPTY', `${file} (${field}) is empty`);
  return content;
}

function nonEmpty(value: string, where: string): string {
  if (value.length === 0) throw new SecretError('SECRET_EMPTY', `${where} is empty; it should hold the broker password`);
  return value;
}

/** Builds the mqtt.js options for the username, the password and, when TLS is configured, the client certificate. */
export function brokerAuthOptions(username: string | undefined, secrets: BrokerSecrets): IClientOptions {
  const options: IClientOptions = {};
  if (username !== undefined) options.username = username;
  if (secrets.password !== undefined) options.password = secrets.password;
  if (secrets.tls !== undefined) {
    options.ca = secrets.tls.ca;
    options.cert = secrets.tls.cert;
    options.key = secrets.tls.key;
    options.rejectUnauthorized = true;
  }
  return options;
}
