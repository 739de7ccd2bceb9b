// Entry of the command centre: registers the page, its API and the live socket on a fastify app the
// central service owns. Everything is registered in its own encapsulated scope.
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../../common/log.js';
import type { Hit } from '../hit.js';
import type { HitRepeat, StoredHit } from '../store/store.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { SessionStore } from '../auth/sessions.js';
import type { RouteContext } from './context.js';
import { handleError, WebError } from './errors.js';
import { toHitView } from './hit-view.js';
import { LiveHub } from './live.js';
import { CATALOGUES } from './messages/catalogues.js';
import type { CommandCentrePorts } from './ports.js';
import { registerHitRoutes } from './routes/hit-routes.js';
import { registerListRoutes } from './routes/list-routes.js';
import { registerRecordRoutes } from './routes/record-routes.js';
import { registerSessionRoutes } from './routes/session-routes.js';
import { registerUserRoutes } from './routes/user-routes.js';

export const DEFAULT_CAR_ONLINE_WINDOW_MS = 60_000;
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Browsers load only this server's scripts and styles; evidence images are data: URLs. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface CommandCentreDeps {
  ports: CommandCentrePorts;
  logger: Logger;
  /** ms since the epoch. */
  clock?: () => number;
  /** Sets the Secure attribute on the session cookie; true unless the page is served over plain HTTP. */
  secureCookies?: boolean;
  /**
   * Sessions owned by the caller, who loads and closes them. By default the command centre keeps its
   * sessions in ports.store, loads them before it registers its routes and flushes them when the app closes.
   */
  sessions?: SessionStore;
  /** A car heard from within this window counts as online; default 60 s. */
  carOnlineWindowMs?: number;
}

export interface CommandCentre {
  sessions: SessionStore;
  live: LiveHub;
}

/** Registers the command centre on `app`; call before app.listen(). */
export async function registerCommandCentre(app: FastifyInstance, deps: CommandCentreDeps): Promise<CommandCentre> {
  const clock = deps.clock ?? Date.now;
  const sessions = deps.sessions ?? (await loadStoredSessions(app, deps, clock));
  const live = new LiveHub(sessions, deps.logger);
  const context: RouteContext = {
    ports: deps.ports,
    sessions,
    throttle: new LoginThrottle(clock),
    live,
    logger: deps.logger,
    clock,
    secureCookies: deps.secureCookies ?? true,
    carOnlineWindowMs: deps.carOnlineWindowMs ?? DEFAULT_CAR_ONLINE_WINDOW_MS,
  };

  await app.register(async (scope) => {
    await scope.register(fastifyCookie);
    await scope.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
    await scope.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/assets/', index: false, cacheControl: false });
    scope.setErrorHandler(handleError(deps.logger));
    scope.addHook('onSend', async (_request, reply) => setSecurityHeaders(reply));

    registerPageRoutes(scope);
    registerSessionRoutes(scope, context);
    registerHitRoutes(scope, context);
    registerRecordRoutes(scope, context);
    registerUserRoutes(scope, context);
    registerListRoutes(scope, context);
    live.register(scope);
  });

  const onHit = (hit: Hit): void => live.broadcastHit(toHitView(hit));
  const onHitDecided = (hit: StoredHit): void => live.broadcastDecision(toHitView(hit));
  const onHitRepeated = (repeat: HitRepeat): void => live.broadcastRepeat({ hitId: repeat.hitId, repeatCount: repeat.repeatCount, lastSeenAtMs: repeat.lastSeenAtMs });
  deps.ports.hits.on('hit', onHit);
  deps.ports.hits.on('hitRepeated', onHitRepeated);
  deps.ports.hits.on('hitDecided', onHitDecided);
  app.addHook('onClose', async () => {
    deps.ports.hits.off('hit', onHit);
    deps.ports.hits.off('hitRepeated', onHitRepeated);
    deps.ports.hits.off('hitDecided', onHitDecided);
  });
  return { sessions, live };
}

/** Creates the sessions backed by the store, loads the live ones and flushes them when the app closes. */
async function loadStoredSessions(app: FastifyInstance, deps: CommandCentreDeps, clock: () => number): Promise<SessionStore> {
  const sessions = new SessionStore({ clock, persistence: { store: deps.ports.store, logger: deps.logger } });
  try {
    const loaded = await sessions.load();
    deps.logger.info({ sessions: loaded }, 'command-centre sessions loaded from the store');
  } catch (error) {
    await sessions.close();
    throw error;
  }
  app.addHook('onClose', async () => sessions.close());
  return sessions;
}

function registerPageRoutes(scope: FastifyInstance): void {
  scope.get('/', async (_request, reply) => reply.sendFile('index.html'));
  scope.get<{ Params: { language: string } }>('/i18n/:language', async (request) => {
    const language = request.params.language.replace(/\.json$/, '');
    const catalogue = Object.hasOwn(CATALOGUES, language) ? CATALOGUES[language] : undefined;
    if (catalogue === undefined) throw new WebError('NOT_FOUND', 404, `no messages for language ${language}; use one of ${Object.keys(CATALOGUES).join(', ')}`);
    return catalogue;
  });
}

function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cache-control', 'no-store');
}
