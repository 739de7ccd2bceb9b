// Request guard of the command centre: resolves the session cookie, checks the role's permission,
// and protects state-changing requests with an Origin check and the session's CSRF token.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { roleCan, type Permission } from '../auth/roles.js';
import { csrfTokenMatches, type Session, type SessionStore } from '../auth/sessions.js';
import { WebError } from './errors.js';

export const SESSION_COOKIE = 'patrol_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthenticatedRequest {
  session: Session;
  token: string;
}

/** Builds the cookie options; `secure` should be true whenever the page is served over HTTPS. */
export function sessionCookieOptions(secure: boolean, maxAgeSec?: number) {
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure, ...(maxAgeSec === undefined ? {} : { maxAge: maxAgeSec }) };
}

/**
 * Rejects a request whose Origin header names another site. Browsers send Origin on every POST and
 * WebSocket handshake, so a cross-site form or script fails here even before the CSRF token check.
 */
export function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const host = request.headers.host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new WebError('ORIGIN_REJECTED', 403, 'Origin header is not a valid URL');
  }
  if (host === undefined || originHost !== host) {
    throw new WebError('ORIGIN_REJECTED', 403, 'Origin header should name this server; cross-site requests are not allowed');
  }
}

/** Returns the request's live session, or null when it has no valid session cookie. */
export function findSession(request: FastifyRequest, sessions: SessionStore): AuthenticatedRequest | null {
  const token = request.cookies[SESSION_COOKIE];
  if (token === undefined || token.length === 0) return null;
  const session = sessions.touch(token);
  return session === null ? null : { session, token };
}

/** Returns the authenticated user of a request, throwing UNAUTHENTICATED, FORBIDDEN or CSRF_REJECTED. */
export function authorize(request: FastifyRequest, sessions: SessionStore, permission: Permission | null): AuthenticatedRequest {
  const found = findSession(request, sessions);
  if (found === null) throw new WebError('UNAUTHENTICATED', 401, 'log in first; the session is missing or has expired');

  if (!SAFE_METHODS.has(request.method)) {
    checkOrigin(request);
    if (!csrfTokenMatches(found.session, request.headers[CSRF_HEADER])) {
      throw new WebError('CSRF_REJECTED', 403, `the ${CSRF_HEADER} header should carry the session's CSRF token from /api/session`);
    }
  }
  if (permission !== null && !roleCan(found.session.role, permission)) {
    throw new WebError('FORBIDDEN', 403, `role ${found.session.role} may not do ${permission}`);
  }
  return found;
}

const authenticatedRequests = new WeakMap<FastifyRequest, AuthenticatedRequest>();

/** Builds a preHandler that admits only users with the permission (null admits any logged-in user). */
export function requirePermission(sessions: SessionStore, permission: Permission | null): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    authenticatedRequests.set(request, authorize(request, sessions, permission));
  };
}

/** Returns the user that requirePermission admitted; throws when the route has no guard. */
export function currentUser(request: FastifyRequest): AuthenticatedRequest {
  const found = authenticatedRequests.get(request);
  if (found === undefined) throw new Error('route has no requirePermission guard; add one before reading the current user');
  return found;
}
