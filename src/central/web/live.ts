// Live updates to the page over WebSocket: new hits and decisions, sent to every logged-in user who
// may see hits. A socket belongs to a session and is closed when that session ends.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../../common/log.js';
import { roleCan } from '../auth/roles.js';
import type { SessionStore } from '../auth/sessions.js';
import { WebError } from './errors.js';
import { checkOrigin, findSession } from './guard.js';
import type { HitView } from './hit-view.js';

export const LIVE_PATH = '/api/live';
/** A socket that has this much unsent data is too slow to follow; it is closed and the page reconnects. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 25_000;
/** WebSocket close code 4401 (application range 4000-4999): the session ended. */
const CLOSE_SESSION_ENDED = 4401;

/** Repeat count and latest time of the matches folded into a hit, sent live to the page. */
export interface RepeatView {
  hitId: string;
  repeatCount: number;
  lastSeenAtMs: number;
}

export type LiveMessage = { type: 'hit'; hit: HitView } | { type: 'decision'; hit: HitView } | { type: 'repeat'; repeat: RepeatView };

interface LiveClient {
  socket: WebSocket;
  sessionToken: string;
  username: string;
}

export class LiveHub {
  private readonly clients = new Set<LiveClient>();
  private pingTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sessions: SessionStore,
    private readonly logger: Logger,
  ) {}

  get connectedCount(): number {
    return this.clients.size;
  }

  /** Adds the WebSocket route; the handshake needs a live session that may view hits. */
  register(app: FastifyInstance): void {
    app.get(LIVE_PATH, {
      websocket: true,
      preValidation: async (request) => {
        checkOrigin(request);
        const found = findSession(request, this.sessions);
        if (found === null) throw new WebError('UNAUTHENTICATED', 401, 'log in first; the session is missing or has expired');
        if (!roleCan(found.session.role, 'hits.view')) throw new WebError('FORBIDDEN', 403, `role ${found.session.role} may not view hits`);
      },
    }, (socket, request) => {
      const found = findSession(request, this.sessions);
      if (found === null) {
        socket.close(CLOSE_SESSION_ENDED, 'session ended');
        return;
      }
      this.add({ socket, sessionToken: found.token, username: found.session.username });
    });
    this.pingTimer = setInterval(() => this.pingAll(), PING_INTERVAL_MS);
    this.pingTimer.unref();
    app.addHook('onClose', async () => this.closeAll());
  }

  broadcastHit(hit: HitView): void {
    this.broadcast({ type: 'hit', hit });
  }

  broadcastDecision(hit: HitView): void {
    this.broadcast({ type: 'decision', hit });
  }

  broadcastRepeat(repeat: RepeatView): void {
    this.broadcast({ type: 'repeat', repeat });
  }

  closeSessionSockets(sessionToken: string): void {
    for (const client of this.clients) if (client.sessionToken === sessionToken) this.drop(client, CLOSE_SESSION_ENDED, 'session ended');
  }

  closeUserSockets(username: string): void {
    for (const client of this.clients) if (client.username === username) this.drop(client, CLOSE_SESSION_ENDED, 'session ended');
  }

  private add(client: LiveClient): void {
    this.clients.add(client);
    client.socket.on('close', () => this.clients.delete(client));
    client.socket.on('error', (error) => {
      this.logger.info({ err: error, username: client.username }, 'live socket error');
      this.clients.delete(client);
    });
    // The page sends nothing; anything it does send is ignored.
    client.socket.on('message', () => undefined);
  }

  private broadcast(message: LiveMessage): void {
    const text = JSON.stringify(message);
    for (const client of this.clients) {
      if (client.socket.readyState !== client.socket.OPEN) continue;
      if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.logger.warn({ username: client.username, bufferedBytes: client.socket.bufferedAmount }, 'live socket too slow; closing it');
        this.drop(client, 1013, 'too slow; reconnect');
        continue;
      }
      client.socket.send(text);
    }
  }

  private pingAll(): void {
    for (const client of this.clients) if (client.socket.readyState === client.socket.OPEN) client.socket.ping();
  }

  private drop(client: LiveClient, code: number, reason: string): void {
    this.clients.delete(client);
    client.socket.close(code, reason);
  }

  private closeAll(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    for (const client of this.clients) this.drop(client, 1001, 'server stopping');
  }
}
