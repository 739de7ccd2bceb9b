// Errors the command centre's API returns: a stable code the page translates, an HTTP status and an
// English message for logs and API clients. The reply body never includes the cause.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../../common/log.js';
import { PasswordError } from '../auth/password.js';
import { StoreError, type StoreErrorCode } from '../store/store.js';
import { ListAdminError, type ListAdminErrorCode } from './ports.js';

export type WebErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CSRF_REJECTED'
  | 'ORIGIN_REJECTED'
  | 'BAD_REQUEST'
  | 'LOGIN_FAILED'
  | 'LOGIN_LOCKED'
  | 'USER_SELF_CHANGE'
  | 'LISTS_UNAVAILABLE'
  | 'NOT_FOUND'
  | 'INTERNAL'
  | 'HIT_NOT_FOUND'
  | 'HIT_ALREADY_DECIDED'
  | 'USER_EXISTS'
  | 'USER_NOT_FOUND'
  | ListAdminErrorCode
  | Exclude<PasswordError['code'], 'PASSWORD_HASH_MALFORMED'>;

export class WebError extends Error {
  override readonly name = 'WebError';
  constructor(
    readonly code: WebErrorCode,
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Store refusals that are the user's to fix; any other StoreError is a server fault. */
const STORE_ERRORS: Partial<Record<StoreErrorCode, { code: WebErrorCode; statusCode: number }>> = {
  STORE_HIT_NOT_FOUND: { code: 'HIT_NOT_FOUND', statusCode: 404 },
  STORE_HIT_ALREADY_DECIDED: { code: 'HIT_ALREADY_DECIDED', statusCode: 409 },
  STORE_USER_EXISTS: { code: 'USER_EXISTS', statusCode: 409 },
  STORE_USER_NOT_FOUND: { code: 'USER_NOT_FOUND', statusCode: 404 },
  STORE_SUBJECT_NOT_FOUND: { code: 'SUBJECT_NOT_FOUND', statusCode: 404 },
};

const LIST_ADMIN_STATUS: Record<ListAdminErrorCode, number> = {
  HOTLIST_ENTRY_INVALID: 400,
  HOTLIST_ENTRY_NOT_FOUND: 404,
  ENROL_REJECTED: 422,
  SUBJECT_NOT_FOUND: 404,
};

/** Validates a request body or query with a zod schema; throws BAD_REQUEST naming the fields at fault. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, inputName: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new WebError('BAD_REQUEST', 400, `invalid ${inputName}: ${fields}`);
}

/** Maps any thrown error to a reply. Unexpected errors are logged and returned as INTERNAL. */
export function handleError(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void => {
    const known = toWebError(error);
    if (known !== null) {
      if (known.statusCode >= 500) logger.error({ err: error, method: request.method, route: request.routeOptions.url }, 'command centre request failed');
      void reply.code(known.statusCode).send({ error: { code: known.code, message: known.message } });
      return;
    }
    logger.error({ err: error, method: request.method, route: request.routeOptions.url }, 'command centre request failed');
    void reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the service log' } });
  };
}

function toWebError(error: Error): WebError | null {
  if (error instanceof WebError) return error;
  if (error instanceof ListAdminError) return new WebError(error.code, LIST_ADMIN_STATUS[error.code], error.message);
  if (error instanceof StoreError) {
    const mapped = STORE_ERRORS[error.code];
    return mapped === undefined ? null : new WebError(mapped.code, mapped.statusCode, error.message);
  }
  if (error instanceof PasswordError && error.code !== 'PASSWORD_HASH_MALFORMED') return new WebError(error.code, 400, error.message);
  const statusCode = (error as FastifyError).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Fastify's own client errors: body too large, unsupported content type, malformed JSON.
    return new WebError('BAD_REQUEST', statusCode, error.message);
  }
  return null;
}
