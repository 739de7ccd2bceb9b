// Login, logout and the current session. A failed login reports only that the name or password was
// wrong, and takes as long for an unknown name as for a wrong password.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from '../../auth/password.js';
import { permissionsOf } from '../../auth/roles.js';
import type { Session } from '../../auth/sessions.js';
import { writeAudit, type RouteContext } from '../context.js';
import { parseInput, WebError } from '../errors.js';
import { checkOrigin, currentUser, requirePermission, SESSION_COOKIE, sessionCookieOptions } from '../guard.js';
import { USERNAME_PATTERN } from './user-routes.js';

const LoginSchema = z.strictObject({
  username: z.string().regex(USERNAME_PATTERN, 'should be 1-64 letters, digits, ., _ or -'),
  password: z.string().min(1, 'should not be empty').max(MAX_PASSWORD_LENGTH * 4),
});

function sessionBody(session: Session) {
  return { username: session.username, role: session.role, permissions: permissionsOf(session.role), csrfToken: session.csrfToken };
}

export function registerSessionRoutes(app: FastifyInstance, context: RouteContext): void {
  let dummyHash: Promise<string> | null = null;
  const unknownUserHash = (): Promise<string> => (dummyHash ??= hashPassword(`unknown-user-${Math.random()}-padding`));

  app.post('/api/login', async (request, reply) => {
    checkOrigin(request);
    const { username, password } = parseInput(LoginSchema, request.body, 'login');

    const lockedForMs = context.throttle.lockedForMs(username);
    if (lockedForMs > 0) {
      await writeAudit(context, { actor: username, action: 'user.login-failed', target: username, reason: null, details: { locked: true } });
      throw new WebError('LOGIN_LOCKED', 429, `too many failed logins for this name; try again in ${Math.ceil(lockedForMs / 60_000)} min`);
    }

    const user = await context.ports.store.getUser(username);
    const passwordMatches = await verifyPassword(password, user?.passwordHash ?? (await unknownUserHash()));
    if (user === null || user.disabled || !passwordMatches) {
      context.throttle.recordFailure(username);
      await writeAudit(context, { actor: username, action: 'user.login-failed', target: username, reason: null, details: null });
      context.logger.info({ username }, 'command centre login failed');
      throw new WebError('LOGIN_FAILED', 401, 'user name or password is wrong, or the user is disabled');
    }

    context.throttle.recordSuccess(username);
    const { token, session } = context.sessions.create(user.username, user.role);
    await writeAudit(context, { actor: user.username, action: 'user.login', target: null, reason: null, details: { role: user.role } });
    context.logger.info({ username: user.username, role: user.role }, 'command centre login');
    setSessionCookie(reply, token, context.secureCookies);
    return sessionBody(session);
  });

  app.get('/api/session', { preHandler: requirePermission(context.sessions, null) }, async (request) => sessionBody(currentUser(request).session));

  app.post('/api/logout', { preHandler: requirePermission(context.sessions, null) }, async (request, reply) => {
    const { session, token } = currentUser(request);
    context.sessions.destroy(token);
    context.live.closeSessionSockets(token);
    await writeAudit(context, { actor: session.username, action: 'user.logout', target: null, reason: null, details: null });
    void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(context.secureCookies));
    return { ok: true };
  });
}

function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  // No maxAge: a session cookie ends with the browser, and the server expires it earlier when idle.
  void reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(secure));
}
