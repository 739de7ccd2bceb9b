// Login sessions of the command centre, kept in memory: a random token for the cookie, a CSRF token
// per session, idle and absolute expiry. Sessions do not survive a restart, so users log in again.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from './roles.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const DEFAULT_MAX_SESSION_AGE_MS = 12 * 60 * 60 * 1000;

export interface Session {
  username: string;
  role: Role;
  /** Sent by the page in the x-csrf-token header of every state-changing request. */
  csrfToken: string;
  createdAtMs: number;
  lastSeenAtMs: number;
}

export interface SessionStoreOptions {
  clock?: () => number;
  idleTimeoutMs?: number;
  maxAgeMs?: number;
}

export class SessionStore {
  /** Sessions by the SHA-256 of their token, so the map never contains a usable cookie value. */
  private readonly sessions = new Map<string, Session>();
  private readonly clock: () => number;
  private readonly idleTimeoutMs: number;
  private readonly maxAgeMs: number;

  constructor(options: SessionStoreOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_SESSION_AGE_MS;
  }

  /** Starts a session and returns the token for the cookie. */
  create(username: string, role: Role): { token: string; session: Session } {
    this.purgeExpired();
    const token = randomBytes(32).toString('base64url');
    const nowMs = this.clock();
    const session: Session = { username, role, csrfToken: randomBytes(32).toString('base64url'), createdAtMs: nowMs, lastSeenAtMs: nowMs };
    this.sessions.set(digest(token), session);
    return { token, session };
  }

  /** Returns the live session for a cookie token and marks it used, or null when unknown or expired. */
  touch(token: string): Session | null {
    const key = digest(token);
    const session = this.sessions.get(key);
    if (session === undefined) return null;
    const nowMs = this.clock();
    if (this.isExpired(session, nowMs)) {
      this.sessions.delete(key);
      return null;
    }
    session.lastSeenAtMs = nowMs;
    return session;
  }

  destroy(token: string): void {
    this.sessions.delete(digest(token));
  }

  /** Ends every session of a user, after a role change, a password change or disabling. */
  revokeUser(username: string): number {
    let revoked = 0;
    for (const [key, session] of this.sessions) {
      if (session.username !== username) continue;
      this.sessions.delete(key);
      revoked++;
    }
    return revoked;
  }

  get size(): number {
    return this.sessions.size;
  }

  private isExpired(session: Session, nowMs: number): boolean {
    return nowMs - session.lastSeenAtMs > this.idleTimeoutMs || nowMs - session.createdAtMs > this.maxAgeMs;
  }

  private purgeExpired(): void {
    const nowMs = this.clock();
    for (const [key, session] of this.sessions) {
      if (this.isExpired(session, nowMs)) this.sessions.delete(key);
    }
  }
}

/** Compares a CSRF token from a request header with the session's in constant time. */
export function csrfTokenMatches(session: Session, headerValue: unknown): boolean {
  if (typeof headerValue !== 'string' || headerValue.length === 0) return false;
  const expected = Buffer.from(session.csrfToken);
  const received = Buffer.from(headerValue);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
