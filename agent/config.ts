// The agent's single config file: parsed once at start by a strict schema, so an unknown key or a
// bad value stops the agent with a message naming the field, the value and what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

export const CameraConfigSchema = z.strictObject({
  id: z.string().regex(idPattern, 'should be 1-64 letters, digits, _ or -'),
  /** rtsp:// URL, or a video file or a folder of video files replayed as a camera (files in name order). */
  source: z.string().min(1),
  /**
   * For file and folder sources: pace frames at the clip's own rate (true), or read as fast as
   * possible (false), which holds ffmpeg back instead of dropping frames, so a replay is repeatable.
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
  /** Region of interest [x1, y1, x2, y2] as fractions of the frame (0 to 1); analysis sees only this part. */
  roi: z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)])
    .refine(([x1, y1, x2, y2]) => x1 < x2 && y1 < y2, 'should be [x1, y1, x2, y2] with x1 < x2 and y1 < y2')
    .optional(),
  /** Extra ffmpeg input arguments such as hardware-decode flags, passed through unchanged. */
  ffmpegInputArgs: z.array(z.string()).default([]),
});

export const AgentConfigSchema = z.strictObject({
  carId: z.string().regex(idPattern, 'should be 1-64 letters, digits, _ or -'),
  broker: z.strictObject({
    url: z.string().regex(/^(mqtts?|tcp|ssl|wss?):\/\//, 'should start with mqtt://, mqtts://, ws:// or wss://'),
    /** Environment variable holding the broker password; secrets never live in this file. */
    passwordEnv: z.string().optional(),
    username: z.string().optional(),
    /** 5 for Mosquitto; 4 for the embedded Aedes broker, which speaks MQTT 3.1.1 only. */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
  }),
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
  cameras: z.array(CameraConfigSchema).min(1).max(32),
});

export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type CameraConfig = z.infer<typeof CameraConfigSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** Validates a parsed config object; throws ConfigError listing every problem. */
export function parseAgentConfig(raw: unknown, origin: string): AgentConfig {
  const result = AgentConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(root)';
      const received = lookup(raw, issue.path);
      const shown = received === undefined ? 'nothing' : JSON.stringify(received)?.slice(0, 80);
      return `  ${field}: ${issue.message} (got ${shown})`;
    });
    throw new ConfigError(`invalid agent config ${origin}:\n${problems.join('\n')}`);
  }
  const ids = new Set<string>();
  for (const camera of result.data.cameras) {
    if (ids.has(camera.id)) throw new ConfigError(`invalid agent config ${origin}: cameras: id "${camera.id}" is used twice; camera ids should be unique`);
    ids.add(camera.id);
  }
  return result.data;
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
