// Wording of the central config's validation errors: one line per problem, as
// "field: what was expected (got value)", with each part stated once.
import { z } from 'zod';
import { redactCredentials } from '../common/log.js';

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/**
 * Error map for safeParse: states the expectation of the common issues in the config's own wording,
 * because zod's default ("Invalid input: expected number, received string") repeats the value that
 * describeIssue shows anyway. Messages set in the schema take precedence over this map.
 */
export const expectationMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return `should be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `should be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'too_small':
      if (issue.origin !== 'number') return undefined;
      return issue.inclusive === false ? `should be greater than ${issue.minimum}` : `should be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin !== 'number') return undefined;
      return issue.inclusive === false ? `should be less than ${issue.maximum}` : `should be at most ${issue.maximum}`;
    default:
      return undefined;
  }
};

/** Broker fields where a misplaced secret would land, such as a password given as passwordEnv. */
const SECRET_PRONE_BROKER_FIELDS = new Set<PropertyKey>(['username', 'passwordEnv', 'passwordFile']);

/**
 * Formats one issue as "field: expectation (got value)". Unknown keys are named without their
 * values. Subject labels are never shown, because they name people, and neither are the broker
 * fields where a secret may have been put by mistake. URLs are shown without their credentials.
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${field}: unknown key(s) ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; remove them or fix their spelling`;
  }
  const lastKey = issue.path[issue.path.length - 1];
  if (lastKey === 'label') return `${field}: ${issue.message} (value hidden: labels name people)`;
  if (issue.path[0] === 'broker' && lastKey !== undefined && SECRET_PRONE_BROKER_FIELDS.has(lastKey)) {
    return `${field}: ${issue.message} (value hidden: it may be a secret)`;
  }
  return `${field}: ${issue.message} (got ${formatValue(issue.input)})`;
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  // Redacted before it is shortened, so a cut cannot leave half a password that the redaction misses.
  const text = redactCredentials(JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
