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

/** Removes `user:password@` from any URL inside a string, so ffmpeg lines and errors are safe to log. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino({
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    ...options,
  });
}
