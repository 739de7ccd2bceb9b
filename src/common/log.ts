// Structured logging for every long-running part. Redaction paths keep credentials, plate texts of
// non-hits, face data and payloads out of the logs even when a caller passes them by mistake.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Field paths that are censored wherever they appear in a log line's fields. */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  '*.password',
  'url',
  '*.url',
  'payload',
  '*.payload',
  'embedding',
  '*.embedding',
  'jpeg',
  '*.jpeg',
  'plateText',
  '*.plateText',
];

/**
 * Masks credentials inside a string, so ffmpeg lines, errors and echoed config values are safe to
 * log: the user-info part of anything URL-like (`//user:password@`, with or without a scheme) and
 * the values of JSON keys that name a secret (`"password": "..."`, also misspelt as `pasword`).
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/\/\/[^/@\s"']*@/g, '//***@')
    .replace(/("[^"]*(?:pass|pasw|pwd|secret|token|credential)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, '$1"***"');
}

/**
 * Creates a logger that writes JSON lines to stdout synchronously. With pino's default asynchronous
 * stream, a line logged just before `process.exit` could be lost, and lines reached a pipe out of
 * order around a flush. At the rate these services log, the synchronous write costs little.
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      name,
      level: process.env.LOG_LEVEL ?? 'info',
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      ...options,
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
