// Login sessions of the command centre: a random token for the cookie, a CSRF token per session,
// idle and absolute expiry. Lookups are synchronous and served from memory, because request hooks and
// the WebSocket handshake call them. With a persistence port (the central store), the sessions are
// loaded at start and every change is written through, so users stay logged in across a restart.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../common/log.js';
import type { CentralStore, StoredWebSession, User, WebSessionCutoffs } from '../store/store.js';
import type { Role } from './roles.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const DEFAULT_MAX_SESSION_AGE_MS = 12 * 60 * 60 * 1000;
/**
 * Interval at which last-seen times reach the store. A crash loses up to this much of them, so after
 * a restart a session can expire by idleness up to this much earlier than it would have.
 */
export const DEFAULT_LAST_SEEN_FLUSH_INTERVAL_MS = 60_000;

export interface Session {
  username: string;
  role: Role;
  /** Sent by the page in the x-csrf-token header of every state-changing request. */
  csrfToken: string;
  createdAtMs: number;
  lastSeenAtMs: number;
}

/** The central-store methods a SessionStore reads at load and writes through to. */
export type SessionPersistenceStore = Pick<
  CentralStore,
  'saveWebSession' | 'listLiveWebSessions' | 'updateWebSessionsLastSeen' | 'deleteWebSession' | 'deleteUserWebSessions' | 'purgeExpiredWebSessions' | 'getUser'
>;

export interface SessionPersistence {
  store: SessionPersistenceStore;
  /** Receives the errors of writes to the store, which never reach the request that caused them. */
  logger: Logger;
  /** Default DEFAULT_LAST_SEEN_FLUSH_INTERVAL_MS. */
  flushIntervalMs?: number;
}

export interface SessionStoreOptions {
  clock?: () => number;
  idleTimeoutMs?: number;
  maxAgeMs?: number;
  /** Keeps the sessions in the central store. Without it they live in memory only and end with the process. */
  persistence?: SessionPersistence;
}

/**
 * Sessions in memory, optionally backed by the central store.
 *
 * NOTE: every instance of the central service that serves the page keeps its own copy of the
 * sessions and reads the store only in load(). When two instances serve the page, a login on one is
 * unknown to the other, and a logout or a user's revocation on one does not end the session on the
 * other: that instance accepts the old cookie, with the old role, until it restarts or the session
 * expires. Route each user to one instance (sticky sessions) and restart the others after revoking a user.
 */
export class SessionStore {
  /** Sessions by the SHA-256 of their token, so the map never contains a usable cookie value. */
  private readonly sessions = new Map<string, Session>();
  private readonly clock: () => number;
  private readonly idleTimeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly persistence: SessionPersistence | null;
  /** Last-seen times not yet written to the store, by token digest. */
  private readonly unsavedLastSeen = new Map<string, number>();
  /** Tail of the store writes. They run one after another, so a delete never overtakes its save. */
  private writes: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(options: SessionStoreOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_SESSION_AGE_MS;
    this.persistence = options.persistence ?? null;
    if (this.persistence !== null) {
      this.flushTimer = setInterval(() => this.flushLastSeen(), this.persistence.flushIntervalMs ?? DEFAULT_LAST_SEEN_FLUSH_INTERVAL_MS);
      this.flushTimer.unref();
    }
  }

  /**
   * Loads the live sessions from the store into memory and returns how many. Call it once, before
   * serving requests. Expired sessions are purged from the store. A session is also dropped and
   * deleted when its user no longer exists, is disabled or was changed after the session started,
   * so a revocation whose delete failed is not undone by a restart. Without persistence it returns 0.
   * Rejects when the store fails.
   */
  async load(): Promise<number> {
    if (this.persistence === null) return 0;
    const store = this.persistence.store;
    const cutoffs = this.cutoffs(this.clock());
    await store.purgeExpiredWebSessions(cutoffs);
    const stored = await store.listLiveWebSessions(cutoffs);

    const users = new Map<string, User | null>();
    for (const username of new Set(stored.map((session) => session.username))) users.set(username, await store.getUser(username));

    let loaded = 0;
    for (const session of stored) {
      const user = users.get(session.username) ?? null;
      if (user === null || user.disabled || user.updatedAtMs > session.createdAtMs) {
        await store.deleteWebSession(session.tokenSha256);
        continue;
      }
      const { tokenSha256, ...fields } = session;
      this.sessions.set(tokenSha256, fields);
      loaded++;
    }
    return loaded;
  }

  /** Starts a session and returns the token for the cookie. */
  create(username: string, role: Role): { token: string; session: Session } {
    this.purgeExpired();
    const token = randomBytes(32).toString('base64url');
    const nowMs = this.clock();
    const session: Session = { username, role, csrfToken: randomBytes(32).toString('base64url'), createdAtMs: nowMs, lastSeenAtMs: nowMs };
    const key = digest(token);
    this.sessions.set(key, session);

    const row: StoredWebSession = { tokenSha256: key, ...session };
    const cutoffs = this.cutoffs(nowMs);
    this.enqueueWrite({ username }, 'failed to store a command-centre session in the central store; the user must log in again after a restart', (store) => store.saveWebSession(row));
    this.enqueueWrite({}, 'failed to purge expired command-centre sessions from the central store; the next login retries', (store) => store.purgeExpiredWebSessions(cutoffs));
    return { token, session };
  }

  /** Returns the live session for a cookie token and marks it used, or null when unknown or expired. */
  touch(token: string): Session | null {
    const key = digest(token);
    const session = this.sessions.get(key);
    if (session === undefined) return null;
    const nowMs = this.clock();
    if (this.isExpired(session, nowMs)) {
      // The store's row stays until a purge; load() skips it because it has expired there too.
      this.forget(key);
      return null;
    }
    session.lastSeenAtMs = nowMs;
    if (this.persistence !== null) this.unsavedLastSeen.set(key, nowMs);
    return session;
  }

  destroy(token: string): void {
    const key = digest(token);
    const username = this.sessions.get(key)?.username;
    this.forget(key);
    const failureMessage = 'failed to delete a command-centre session from the central store; a restart loads it again unless it has expired';
    this.enqueueWrite({ username }, failureMessage, (store) => store.deleteWebSession(key));
  }

  /** Ends every session of a user, after a role change, a password change or disabling. Returns how many were in memory. */
  revokeUser(username: string): number {
    let revoked = 0;
    for (const [key, session] of this.sessions) {
      if (session.username !== username) continue;
      this.forget(key);
      revoked++;
    }
    // Also deletes the user's sessions that other instances stored, so no restart loads them.
    this.enqueueWrite({ username }, 'failed to delete the sessions of a revoked user from the central store; a restart drops them only if the user was changed after they started', (store) => store.deleteUserWebSessions(username));
    return revoked;
  }

  /** Stops the periodic flush, writes the unsaved last-seen times and waits until every queued write has finished. */
  async close(): Promise<void> {
    if (this.flushTimer !== null) clearInterval(this.flushTimer);
    this.flushTimer = null;
    this.flushLastSeen();
    await this.writes;
  }

  get size(): number {
    return this.sessions.size;
  }

  private isExpired(session: Session, nowMs: number): boolean {
    return nowMs - session.lastSeenAtMs > this.idleTimeoutMs || nowMs - session.createdAtMs > this.maxAgeMs;
  }

  /** Expresses the expiry rule of isExpired at nowMs as cutoffs for the store's queries. */
  private cutoffs(nowMs: number): WebSessionCutoffs {
    return { lastSeenBeforeMs: nowMs - this.idleTimeoutMs, createdBeforeMs: nowMs - this.maxAgeMs };
  }

  private purgeExpired(): void {
    const nowMs = this.clock();
    for (const [key, session] of this.sessions) {
      if (this.isExpired(session, nowMs)) this.forget(key);
    }
  }

  private forget(key: string): void {
    this.sessions.delete(key);
    this.unsavedLastSeen.delete(key);
  }

  private flushLastSeen(): void {
    if (this.unsavedLastSeen.size === 0) return;
    const updates = [...this.unsavedLastSeen].map(([tokenSha256, lastSeenAtMs]) => ({ tokenSha256, lastSeenAtMs }));
    this.unsavedLastSeen.clear();
    const failureMessage = 'failed to store the last-seen times of command-centre sessions; after a restart these sessions may expire early';
    this.enqueueWrite({ sessions: updates.length }, failureMessage, (store) => store.updateWebSessionsLastSeen(updates));
  }

  /** Queues a write to the store after the earlier ones. A failure is logged with `context` and not rethrown. Without persistence it does nothing. */
  private enqueueWrite(context: Record<string, unknown>, failureMessage: string, write: (store: SessionPersistenceStore) => Promise<unknown>): void {
    const persistence = this.persistence;
    if (persistence === null) return;
    const logFailure = (error: unknown): void => persistence.logger.error({ err: error, ...context }, failureMessage);
    this.writes = this.writes.then(() => write(persistence.store)).then(() => undefined, logFailure);
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
