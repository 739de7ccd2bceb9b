// Password hashing, sessions, login throttling and the role matrix of the command centre.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoginThrottle } from '../src/central/auth/login-throttle.js';
import { checkPasswordPolicy, hashPassword, PasswordError, verifyPassword } from '../src/central/auth/password.js';
import { permissionsOf, roleCan } from '../src/central/auth/roles.js';
import { csrfTokenMatches, SessionStore } from '../src/central/auth/sessions.js';

test('password – hash verifies only the same password', async () => {
  const hash = await hashPassword('correct horse battery');
  assert.match(hash, /^scrypt\$17\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword('correct horse battery', hash), true);
  assert.equal(await verifyPassword('correct horse batterY', hash), false);
  assert.equal(await verifyPassword('', hash), false);
});

test('password – same password gets different salts', async () => {
  const first = await hashPassword('same password 123');
  const second = await hashPassword('same password 123');
  assert.notEqual(first, second);
  assert.equal(await verifyPassword('same password 123', second), true);
});

test('password – policy rejects short and huge passwords', () => {
  assert.throws(() => checkPasswordPolicy('short'), (error: unknown) => error instanceof PasswordError && error.code === 'PASSWORD_TOO_SHORT');
  assert.throws(() => checkPasswordPolicy('x'.repeat(257)), (error: unknown) => error instanceof PasswordError && error.code === 'PASSWORD_TOO_LONG');
  assert.doesNotThrow(() => checkPasswordPolicy('twelve chars'));
  // Counted in characters, not UTF-16 units: twelve Chinese characters pass.
  assert.doesNotThrow(() => checkPasswordPolicy('巡逻车视频分析指挥中心密'));
});

test('password – malformed stored hash is reported', async () => {
  for (const stored of ['', 'plain', 'scrypt$17$8$1$c2FsdA==', 'bcrypt$17$8$1$c2FsdA==$a2V5', 'scrypt$40$8$1$c2FsdA==$a2V5']) {
    await assert.rejects(verifyPassword('whatever password', stored), (error: unknown) => error instanceof PasswordError && error.code === 'PASSWORD_HASH_MALFORMED', stored);
  }
});

test('sessions – token resolves until idle timeout', () => {
  let nowMs = 1_000_000;
  const sessions = new SessionStore({ clock: () => nowMs, idleTimeoutMs: 1000, maxAgeMs: 10_000 });
  const { token, session } = sessions.create('op1', 'operator');
  assert.equal(sessions.touch(token)?.username, 'op1');
  assert.equal(sessions.touch('not-a-token'), null);

  nowMs += 900;
  assert.ok(sessions.touch(token), 'used within the idle timeout');
  nowMs += 900;
  assert.ok(sessions.touch(token), 'the previous touch restarted the idle timeout');
  nowMs += 1001;
  assert.equal(sessions.touch(token), null);
  assert.equal(csrfTokenMatches(session, session.csrfToken), true);
});

test('sessions – absolute age ends an active session', () => {
  let nowMs = 0;
  const sessions = new SessionStore({ clock: () => nowMs, idleTimeoutMs: 1000, maxAgeMs: 2500 });
  const { token } = sessions.create('op1', 'operator');
  for (nowMs = 500; nowMs <= 2500; nowMs += 500) assert.ok(sessions.touch(token), `alive at ${nowMs} ms`);
  nowMs = 2501;
  assert.equal(sessions.touch(token), null);
});

test('sessions – revokeUser ends every session of that user', () => {
  const sessions = new SessionStore();
  const first = sessions.create('sup1', 'supervisor');
  const second = sessions.create('sup1', 'supervisor');
  const other = sessions.create('op1', 'operator');
  assert.equal(sessions.revokeUser('sup1'), 2);
  assert.equal(sessions.touch(first.token), null);
  assert.equal(sessions.touch(second.token), null);
  assert.ok(sessions.touch(other.token));
});

test('sessions – CSRF token comparison', () => {
  const { session } = new SessionStore().create('op1', 'operator');
  assert.equal(csrfTokenMatches(session, undefined), false);
  assert.equal(csrfTokenMatches(session, ''), false);
  assert.equal(csrfTokenMatches(session, `${session.csrfToken}x`), false);
  assert.equal(csrfTokenMatches(session, ['a']), false);
  assert.equal(csrfTokenMatches(session, session.csrfToken), true);
});

test('login throttle – locks a name after five failures', () => {
  let nowMs = 0;
  const throttle = new LoginThrottle(() => nowMs, 5, 60_000);
  for (let attempt = 0; attempt < 4; attempt++) throttle.recordFailure('Op1');
  assert.equal(throttle.lockedForMs('op1'), 0, 'four failures do not lock');
  throttle.recordFailure('op1');
  assert.equal(throttle.lockedForMs('OP1'), 60_000, 'names are compared without case');
  assert.equal(throttle.lockedForMs('op2'), 0, 'other names are not locked');

  nowMs = 60_001;
  assert.equal(throttle.lockedForMs('op1'), 0, 'the lock ends with the window');
  throttle.recordFailure('op1');
  throttle.recordSuccess('op1');
  assert.equal(throttle.lockedForMs('op1'), 0);
});

test('roles – each role gets exactly its permissions', () => {
  assert.deepEqual(permissionsOf('operator').sort(), ['hits.decide', 'hits.view']);
  assert.deepEqual(permissionsOf('supervisor').sort(), ['audit.view', 'events.search', 'hits.decide', 'hits.view']);
  assert.deepEqual(permissionsOf('administrator').sort(), ['audit.view', 'events.search', 'hits.decide', 'hits.view', 'lists.manage', 'users.manage']);
  assert.equal(roleCan('operator', 'audit.view'), false);
  assert.equal(roleCan('supervisor', 'users.manage'), false);
});
