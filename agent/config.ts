// The agent's single config file: parsed once at start by a strict schema, so an unknown key or a
// bad value stops the agent with a message naming the field, the value and what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { brokerAddressProblem, brokerAuthFields, brokerAuthProblems, findInlineSecrets, inlineSecretProblem, URL_CREDENTIALS_RULE, urlHasCredentials } from '../src/common/broker-auth.js';
import { redactCredentials } from '../src/common/log.js';

export { BrokerTlsSchema } from '../src/common/broker-auth.js';

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

export const CameraConfigSchema = z.strictObject({
  id: z.string().regex(idPattern, 'should be 1-64 letters, digits, _ or -'),
  /** rtsp:// URL, or a video file or a folder of video files replayed as a camera (files in name order). */
  source: z.string().min(1),
  /**
   * For file and folder sources: pace frames at the clip's own rate (true), or read as fast as
   * possible (false), which pauses ffmpeg instead of dropping frames, so a replay is repeatable.
   */
  realtime: z.boolean().default(true),
  /** For file and folder sources: start again at the first file after the last one ends. */
  loop: z.boolean().default(true),
  /** Frame rate of the clip when the source is a raw .h264 file without timing. */
  sourceFps: z.number().positive().max(120).optional(),
  analysisFps: z.number().positive().max(30).default(5),
  width: z.number().int().min(64).max(3840).default(640),
  height: z.number().int().min(64).max(2160).default(360),
  analyses: z.array(z.enum(['plates', 'faces'])).min(1).default(['plates', 'faces']),
  /** Region of interest [x1, y1, x2, y2] as fractions of the frame (0 to 1). Only this part is analysed. */
  roi: z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)])
    .refine(([x1, y1, x2, y2]) => x1 < x2 && y1 < y2, 'should be [x1, y1, x2, y2] with x1 < x2 and y1 < y2')
    .optional(),
  /** Extra ffmpeg input arguments such as hardware-decode flags, passed through unchanged. */
  ffmpegInputArgs: z.array(z.string()).default([]),
});

const MIB = 1024 * 1024;

export const BrokerConfigSchema = z.strictObject({
  url: z
    .string()
    .regex(/^(mqtts?|tcp|ssl|wss?):\/\//, { error: 'should start with mqtt://, mqtts://, tcp://, ssl://, ws:// or wss://', abort: true })
    .superRefine((url, context) => {
      const problem = brokerAddressProblem(url);
      if (problem !== null) context.addIssue({ code: 'custom', message: problem, abort: true });
    })
    .refine((url) => !urlHasCredentials(url), URL_CREDENTIALS_RULE),
  /** Credential fields: username, passwordEnv, passwordFile and tls. The TLS certificate's common name should be the car id. */
  ...brokerAuthFields,
  /** 5 for Mosquitto; 4 for the embedded Aedes broker, which speaks MQTT 3.1.1 only. */
  protocolVersion: z.union([z.literal(4), z.literal(5)], { error: 'should be 4 (MQTT 3.1.1) or 5' }).default(5),
  keepaliveSec: z.number().int().min(5).max(600).default(30),
  /** Wait between reconnect attempts, ms. */
  reconnectPeriodMs: z.number().int().min(100).max(60_000).default(1000),
  /**
   * When an event leaves the outbox: 'central-receipt' once the central service receipts it as stored
   * (nothing is lost if the broker drops queued messages); 'broker-ack' at the broker's PUBACK, only
   * for a central side that sends no receipts.
   */
  deleteAfter: z.enum(['central-receipt', 'broker-ack']).default('central-receipt'),
  /** Wait for the central receipt after the broker's PUBACK before the event is sent again, s. */
  receiptTimeoutSec: z.number().min(1).max(3600).default(30),
});

/** Disk caps of the outbox; see agent/uplink/disk-budget.ts for what is evicted first. */
export const StorageConfigSchema = z.strictObject({
  /** Cap on the events waiting in the outbox, evidence included, MiB. */
  outboxMaxMiB: z.number().positive().max(1024 * 1024).default(2048),
  /** Cap on the evidence images inside those events, MiB; at most outboxMaxMiB. */
  evidenceMaxMiB: z.number().positive().max(1024 * 1024).default(1024),
});

export const GpsConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** gpsd's JSON socket; gpsd listens on 127.0.0.1:2947 by default. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(2947),
  /** A fix older than this is reported as no fix, ms. */
  maxFixAgeMs: z.number().int().min(100).max(600_000).default(5000),
});

export const ClockConfigSchema = z.strictObject({
  /** Interval between clock offset measurements against the central service, s. */
  syncIntervalSec: z.number().min(1).max(86_400).default(60),
  /** Wait for the central service's reply to one measurement, ms. */
  replyTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
});

export const ListsConfigSchema = z.strictObject({
  /** PEM ed25519 public keys whose signatures on hotlist and watchlist updates are trusted. */
  trustedKeyFiles: z.array(z.string().min(1)).min(1),
});

export const AgentConfigSchema = z.strictObject({
  carId: z.string().regex(idPattern, 'should be 1-64 letters, digits, _ or -'),
  broker: BrokerConfigSchema,
  dataDir: z.string().min(1).default('var/agent'),
  modelsDir: z.string().min(1).default('var/models'),
  inferenceThreads: z.number().int().min(1).max(16).default(1),
  /**
   * Worker threads that run the models, each with its own sessions: 0 runs them on the main thread,
   * 'auto' starts one per CPU core (at most 8).
   */
  inferenceWorkers: z.union([z.literal('auto'), z.number().int().min(0).max(16)]).default('auto'),
  /** Port for /metrics and /healthz on 127.0.0.1; 0 disables the endpoint. */
  metricsPort: z.number().int().min(0).max(65535).default(0),
  storage: StorageConfigSchema.default({ outboxMaxMiB: 2048, evidenceMaxMiB: 1024 }),
  /** Position from gpsd; absent means no receiver, and events then carry no position. */
  gps: GpsConfigSchema.optional(),
  clock: ClockConfigSchema.default({ syncIntervalSec: 60, replyTimeoutMs: 5000 }),
  /** On-car matching against signed lists; absent means the car raises no hits itself. */
  lists: ListsConfigSchema.optional(),
  cameras: z.array(CameraConfigSchema).min(1).max(32),
});

export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type CameraConfig = z.infer<typeof CameraConfigSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** Validates a parsed config object; throws ConfigError listing every problem. */
export function parseAgentConfig(raw: unknown, origin: string): AgentConfig {
  const secrets = findInlineSecrets(raw);
  if (secrets.length > 0) {
    const problems = secrets.map((field) => `  ${inlineSecretProblem(field)}`);
    throw new ConfigError(`invalid agent config ${origin}:\n${problems.join('\n')}`);
  }

  const result = AgentConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${describeIssue(issue, raw)}`);
    throw new ConfigError(`invalid agent config ${origin}:\n${problems.join('\n')}`);
  }

  const problems = crossFieldProblems(result.data);
  if (problems.length > 0) throw new ConfigError(`invalid agent config ${origin}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  return result.data;
}

/**
 * Formats one schema issue as "field: expectation (got value)". Unknown keys are named without
 * their values, and values in the broker section are never shown, because a misplaced secret
 * (a misspelt password key, a password given as passwordEnv) would otherwise be printed.
 */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const field = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${field}: unknown key(s) ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; remove them or fix their spelling`;
  }
  const received = lookup(raw, issue.path);
  if (issue.path[0] === 'broker') return `${field}: ${issue.message} (value hidden: the broker section may contain secrets)`;
  const shown = received === undefined ? 'nothing' : redactCredentials(JSON.stringify(received) ?? '').slice(0, 80);
  return `${field}: ${issue.message} (got ${shown})`;
}

/** Rules that involve more than one field; each message names the fields and what is expected. */
function crossFieldProblems(config: AgentConfig): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const camera of config.cameras) {
    if (ids.has(camera.id)) problems.push(`cameras: id "${camera.id}" is used twice; camera ids should be unique`);
    ids.add(camera.id);
  }
  const { storage } = config;
  problems.push(...brokerAuthProblems(config.broker));
  if (storage.evidenceMaxMiB > storage.outboxMaxMiB) {
    problems.push(`storage.evidenceMaxMiB: should be at most storage.outboxMaxMiB (${storage.outboxMaxMiB}), because evidence is stored inside the outbox (got ${storage.evidenceMaxMiB})`);
  }
  return problems;
}

/** Byte caps of the outbox from the storage section. */
export function diskBudgetOf(config: AgentConfig): { maxBytes: number; evidenceMaxBytes: number } {
  return {
    maxBytes: Math.floor(config.storage.outboxMaxMiB * MIB),
    evidenceMaxBytes: Math.floor(config.storage.evidenceMaxMiB * MIB),
  };
}

/** Reads and validates a JSON config file; relative paths inside it stay relative to the cwd. */
export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read agent config ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`agent config ${path.resolve(file)} is not valid JSON: ${(error as Error).message}`);
  }
  return parseAgentConfig(raw, path.resolve(file));
}

function lookup(raw: unknown, fieldPath: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of fieldPath) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
