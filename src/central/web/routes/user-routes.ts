// User administration: list, create, change role or password, disable. Administrators only; each
// change ends the user's sessions and is written to the audit log with its reason.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../../auth/password.js';
import { ROLES } from '../../auth/roles.js';
import { writeAudit, type RouteContext } from '../context.js';
import { parseInput, WebError } from '../errors.js';
import { currentUser, requirePermission } from '../guard.js';
import type { UserUpdate } from '../../store/store.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const username = z.string().regex(USERNAME_PATTERN, 'should be 1-64 letters, digits, ., _ or -');
const reason = z.string().trim().min(1, 'should say why').max(500);
const password = z.string().max(MAX_PASSWORD_LENGTH * 4);

const CreateUserSchema = z.strictObject({ username, role: z.enum(ROLES), password, reason });
const UpdateUserSchema = z
  .strictObject({ role: z.enum(ROLES).optional(), password: password.optional(), disabled: z.boolean().optional(), reason })
  .refine((body) => body.role !== undefined || body.password !== undefined || body.disabled !== undefined, 'should change role, password or disabled');

export function registerUserRoutes(app: FastifyInstance, context: RouteContext): void {
  const guard = { preHandler: requirePermission(context.sessions, 'users.manage') };

  app.get('/api/users', guard, async () => {
    const users = await context.ports.store.listUsers();
    return { users: users.map(({ username, role, disabled, createdAtMs, updatedAtMs }) => ({ username, role, disabled, createdAtMs, updatedAtMs })) };
  });

  app.post('/api/users', guard, async (request) => {
    const actor = currentUser(request).session.username;
    const body = parseInput(CreateUserSchema, request.body, 'new user');
    const passwordHash = await hashPassword(body.password);
    await context.ports.store.createUser({ username: body.username, role: body.role, passwordHash, disabled: false, createdAtMs: context.clock() });
    await writeAudit(context, { actor, action: 'user.create', target: body.username, reason: body.reason, details: { role: body.role } });
    context.logger.info({ actor, username: body.username, role: body.role }, 'command centre user created');
    return { ok: true };
  });

  app.post<{ Params: { username: string } }>('/api/users/:username', guard, async (request) => {
    const actor = currentUser(request).session.username;
    const target = parseInput(username, request.params.username, 'user name');
    const body = parseInput(UpdateUserSchema, request.body, 'user change');
    if (target === actor && (body.role !== undefined || body.disabled === true)) {
      throw new WebError('USER_SELF_CHANGE', 409, 'administrators may not change their own role or disable themselves; ask another administrator');
    }

    const update: UserUpdate = { updatedAtMs: context.clock() };
    if (body.role !== undefined) update.role = body.role;
    if (body.disabled !== undefined) update.disabled = body.disabled;
    if (body.password !== undefined) update.passwordHash = await hashPassword(body.password);
    await context.ports.store.updateUser(target, update);

    const revokedSessions = context.sessions.revokeUser(target);
    context.live.closeUserSockets(target);
    const details = { role: body.role ?? null, disabled: body.disabled ?? null, passwordChanged: body.password !== undefined, revokedSessions };
    await writeAudit(context, { actor, action: 'user.update', target, reason: body.reason, details });
    context.logger.info({ actor, username: target, ...details }, 'command centre user changed');
    return { ok: true };
  });
}
