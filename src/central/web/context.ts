// The context every route module of the command centre receives (ports, sessions, clock, logger),
// and the one helper that writes the web layer's own audit entries.
import type { Logger } from '../../common/log.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { SessionStore } from '../auth/sessions.js';
import type { AuditEntry } from '../store/store.js';
import type { LiveHub } from './live.js';
import type { CommandCentrePorts, WebAuditAction } from './ports.js';

export interface RouteContext {
  ports: CommandCentrePorts;
  sessions: SessionStore;
  throttle: LoginThrottle;
  live: LiveHub;
  logger: Logger;
  clock: () => number;
  /** Sets the Secure attribute on the session cookie. */
  secureCookies: boolean;
  /** A car heard from within this window counts as online. */
  carOnlineWindowMs: number;
}

export interface WebAuditEntry {
  actor: string;
  action: WebAuditAction;
  target: string | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

/** Appends an audit entry stamped with the current time. */
export function writeAudit(context: RouteContext, entry: WebAuditEntry): Promise<AuditEntry> {
  return context.ports.store.appendAudit({ ...entry, atMs: context.clock() });
}
