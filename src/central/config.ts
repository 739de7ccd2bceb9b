// The central service's config file: parsed once at start by a strict schema. Errors name the
// field, the value received and what was expected; relative paths resolve against the file's folder.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { brokerAddressProblem, brokerAuthFields, brokerAuthProblems, findInlineSecrets, inlineSecretProblem, URL_CREDENTIALS_RULE, urlHasCredentials } from '../common/broker-auth.js';
import { HotlistPrioritySchema } from '../matching/hotlist.js';
import { DEFAULT_FACE_THRESHOLD } from '../matching/watchlist.js';
import { DEFAULT_MIN_ENROLMENT_QUALITY } from '../matching/enrolment.js';
import { DEFAULT_FACE_LIST_ID } from '../matching/face-index.js';
import { describeIssue, expectationMessage } from './config-issues.js';
import { DEFAULT_HIT_COOLDOWN_MS } from './service.js';
import { DEFAULT_WEB_CONFIG, WebConfigSchema } from './web/config.js';

const ID_RULE = 'should be 1-64 letters, digits, _ or -';
const id = z.string({ error: ID_RULE }).regex(/^[A-Za-z0-9_-]{1,64}$/, ID_RULE);
const filePath = z.string({ error: 'should be a file path' }).min(1, 'should be a non-empty file path');

const BrokerConfigSchema = z.strictObject({
  url: z
    .string({ error: 'should be a broker URL' })
    .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, { error: 'should be a URL starting with mqtt://, mqtts://, ws:// or wss://', abort: true })
    .superRefine((url, context) => {
      const problem = brokerAddressProblem(url);
      if (problem !== null) context.addIssue({ code: 'custom', message: problem, abort: true });
    })
    .refine((url) => !urlHasCredentials(url), URL_CREDENTIALS_RULE),
  clientId: id.default('patrol-central'),
  /** 5 for Mosquitto; 4 for the embedded Aedes broker, which speaks MQTT 3.1.1 only. */
  protocolVersion: z.union([z.literal(4), z.literal(5)], { error: 'should be 4 (MQTT 3.1.1) or 5' }).default(5),
  /** How long the broker keeps the session, and so the queued events, while the service is down (MQTT 5 only). */
  sessionExpirySec: z.number().int().min(0).max(7 * 24 * 3600, 'should be at most 604800 (7 days)').default(24 * 3600),
  connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /**
   * MQTT 5 shared subscription group: instances with the same group split the cars' traffic. null
   * subscribes to every message, which MQTT 3.1.1 brokers without shared subscriptions need.
   */
  shareGroup: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -').nullable().default('central'),
  /**
   * Broker connections that ingest events, each taking one message at a time. More than one needs a
   * share group, so the broker splits messages between them instead of copying each to all.
   */
  ingestConnections: z.number().int().min(1).max(32).default(1),
  /**
   * username, passwordEnv, passwordFile and tls, as for the agent. With the Mosquitto config in
   * deploy/mosquitto, tls names a client certificate whose common name is "central".
   */
  ...brokerAuthFields,
});

const PostgresConfigSchema = z.strictObject({
  /** postgres://user:password@host:port/database */
  url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'should be a URL starting with postgres:// or postgresql://'),
  /** Schema holding the tables; created when missing. */
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'should be 1-63 lower-case letters, digits or _, starting with a letter or _').default('public'),
  poolSize: z.number().int().min(1).max(100).default(10),
});

const DAYS = z.number().int().min(1).max(36_500).nullable();

/** How long each kind of data is kept, in days; null keeps it forever. Set these to what local law requires. */
const RetentionConfigSchema = z.strictObject({
  hitsDays: DAYS.default(365),
  plateReadsDays: DAYS.default(30),
  faceSightingsDays: DAYS.default(7),
  objectEventsDays: DAYS.default(7),
  evidenceDays: DAYS.default(90),
  auditDays: DAYS.default(5 * 365),
  purgeIntervalMs: z.number().int().min(1000).max(7 * 24 * 3600 * 1000).default(3600 * 1000),
});

const ListsConfigSchema = z.strictObject({
  /** ed25519 private key (PEM) that signs the lists published to the cars; without it nothing is published. */
  signingKeyFile: z.string().min(1).optional(),
  /** How often to check the store for list changes made by another instance. */
  pollIntervalMs: z.number().int().min(100).max(600_000).default(5000),
});

const HotlistEntrySchema = z.strictObject({
  plate: z.string().min(1),
  reason: z.string().min(1),
  priority: HotlistPrioritySchema,
  expiresAtMs: z.number().nonnegative().nullable().optional(),
});

const FaceListSchema = z.strictObject({
  listId: id,
  threshold: z.number().min(0, 'should be a cosine similarity from 0 to 1').max(1, 'should be a cosine similarity from 0 to 1'),
});

const WatchlistSubjectSchema = z.strictObject({
  subjectId: id,
  /** Face list of the subject; 'default' uses faceThreshold. */
  listId: id.default(DEFAULT_FACE_LIST_ID),
  label: z.string().min(1, 'should be a non-empty display label').max(200),
  photos: z.array(filePath).min(1, 'should list at least one photo'),
});

export const CentralConfigSchema = z
  .strictObject({
    broker: BrokerConfigSchema,
    /** SQLite database file (created when missing), or PostgreSQL settings for fleets. */
    database: z.union([filePath, z.strictObject({ postgres: PostgresConfigSchema })], { error: 'should be a SQLite file path or { "postgres": { "url": ... } }' }),
    /** Hotlist file (.json or .csv), or the entries inline. */
    hotlist: z.union([filePath, z.array(HotlistEntrySchema)], { error: 'should be a .json/.csv file path or an array of entries' }),
    watchlist: z.array(WatchlistSubjectSchema).default([]),
    /** Face lists besides 'default', each with its own threshold. */
    faceLists: z.array(FaceListSchema).default([]),
    faceThreshold: z.number().min(0, 'should be a cosine similarity from 0 to 1').max(1, 'should be a cosine similarity from 0 to 1').default(DEFAULT_FACE_THRESHOLD),
    enrolMinQuality: z.number().min(0).max(1).default(DEFAULT_MIN_ENROLMENT_QUALITY),
    hitCooldownMs: z.number().int().min(0).max(24 * 3600 * 1000).default(DEFAULT_HIT_COOLDOWN_MS),
    /** Folder of the ONNX models; needed only to enrol a watchlist. */
    modelsDir: filePath.optional(),
    http: z
      .strictObject({
        /** Port for /metrics and /healthz on 127.0.0.1; 0 picks a free port. */
        port: z.number().int().min(0).max(65535).default(9464),
      })
      .default({ port: 9464 }),
    retention: RetentionConfigSchema.default(RetentionConfigSchema.parse({})),
    lists: ListsConfigSchema.default(ListsConfigSchema.parse({})),
    /** The command-centre page; off unless enabled. */
    web: WebConfigSchema.default(DEFAULT_WEB_CONFIG),
  })
  .superRefine((config, context) => {
    if (config.watchlist.length > 0 && config.modelsDir === undefined) {
      context.addIssue({ code: 'custom', path: ['modelsDir'], input: config.modelsDir, message: 'is required when the watchlist is not empty, to enrol its photos' });
    }
    if (config.broker.ingestConnections > 1 && (config.broker.shareGroup === null || config.broker.protocolVersion !== 5)) {
      context.addIssue({ code: 'custom', path: ['broker', 'ingestConnections'], input: config.broker.ingestConnections, message: 'should be 1 unless broker.shareGroup is set and broker.protocolVersion is 5' });
    }
    const seen = new Set<string>();
    config.watchlist.forEach((subject, index) => {
      if (seen.has(subject.subjectId)) {
        context.addIssue({ code: 'custom', path: ['watchlist', index, 'subjectId'], input: subject.subjectId, message: 'should be unique in the watchlist' });
      }
      seen.add(subject.subjectId);
      const known = subject.listId === DEFAULT_FACE_LIST_ID || config.faceLists.some((list) => list.listId === subject.listId);
      if (!known) context.addIssue({ code: 'custom', path: ['watchlist', index, 'listId'], input: subject.listId, message: 'should name a list in faceLists or be "default"' });
    });
  });

export type CentralConfig = z.infer<typeof CentralConfigSchema>;
export type CentralConfigInput = z.input<typeof CentralConfigSchema>;

export class CentralConfigError extends Error {
  override readonly name = 'CentralConfigError';
  constructor(
    readonly code: 'CONFIG_READ_FAILED' | 'CONFIG_INVALID_JSON' | 'CONFIG_INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Validates a config object and resolves its relative paths against baseDir. Throws one error that
 * lists the problems of the first failing stage: inline secrets, the schema, the broker's cross-field rules.
 */
export function parseCentralConfig(raw: unknown, baseDir: string, origin = 'config'): CentralConfig {
  const invalid = (problems: string[]): CentralConfigError =>
    new CentralConfigError('CONFIG_INVALID', `invalid central config ${origin}:\n${problems.map((line) => `  ${line}`).join('\n')}`);

  const secrets = findInlineSecrets(raw);
  if (secrets.length > 0) throw invalid(secrets.map(inlineSecretProblem));

  const result = CentralConfigSchema.safeParse(raw, { reportInput: true, error: expectationMessage });
  if (!result.success) throw invalid(result.error.issues.map(describeIssue));

  const brokerProblems = brokerAuthProblems(result.data.broker);
  if (brokerProblems.length > 0) throw invalid(brokerProblems);
  return resolvePaths(result.data, baseDir);
}

/** Reads and validates a JSON config file. */
export function loadCentralConfig(configPath: string): CentralConfig {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new CentralConfigError('CONFIG_READ_FAILED', `could not read config file ${configPath}: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CentralConfigError('CONFIG_INVALID_JSON', `config file ${configPath} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseCentralConfig(raw, path.dirname(path.resolve(configPath)), configPath);
}

function resolvePaths(config: CentralConfig, baseDir: string): CentralConfig {
  const resolve = (file: string): string => (file === ':memory:' ? file : path.resolve(baseDir, file));
  const { broker } = config;
  return {
    ...config,
    broker: {
      ...broker,
      passwordFile: broker.passwordFile === undefined ? undefined : resolve(broker.passwordFile),
      tls: broker.tls === undefined ? undefined : { caFile: resolve(broker.tls.caFile), certFile: resolve(broker.tls.certFile), keyFile: resolve(broker.tls.keyFile) },
    },
    database: typeof config.database === 'string' ? resolve(config.database) : config.database,
    lists: { ...config.lists, signingKeyFile: config.lists.signingKeyFile === undefined ? undefined : resolve(config.lists.signingKeyFile) },
    hotlist: typeof config.hotlist === 'string' ? resolve(config.hotlist) : config.hotlist,
    watchlist: config.watchlist.map((subject) => ({ ...subject, photos: subject.photos.map(resolve) })),
    modelsDir: config.modelsDir === undefined ? undefined : resolve(config.modelsDir),
  };
}
