// Password hashing, sessions (in memory and kept in the central store on SQLite and PostgreSQL), login
// throttling and the role matrix of the command centre.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { pino } from 'pino';
import { LoginThrottle } from '../src/central/auth/login-throttle.js';
import { checkPasswordPolicy, hashPassword, PasswordError, verifyPassword } from '../src/central/auth/password.js';
import { permissionsOf, roleCan, type Role } from '../src/central/auth/roles.js';
import { csrfTokenMatches, SessionStore, type SessionPersistenceStore, type SessionStoreOptions } from '../src/central/auth/sessions.js';
import type { CentralStore } from '../src/central/store/store.js';
import { openTestStore, type TestStore } from './support/central-stores.js';

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

const silentLogger = pino({ level: 'silent' });

/** Cutoffs that match every stored session, expired or not, because no stored time is before 0. */
const ALL_SESSIONS = { lastSeenBeforeMs: 0, createdBeforeMs: 0 };

/** Creates a SessionStore kept in `store`, with an idle timeout of 1 s and a maximum age of 2 s unless `options` override them. */
function storedSessions(store: SessionPersistenceStore, clock: () => number, options: SessionStoreOptions = {}): SessionStore {
  return new SessionStore({ clock, idleTimeoutMs: 1000, maxAgeMs: 2000, persistence: { store, logger: silentLogger }, ...options });
}

/** Adds a user last changed at time 0, so sessions started later on the test clock are loaded. */
async function addUser(store: CentralStore, username: string, role: Role): Promise<void> {
  await store.createUser({ username, role, passwordHash: 'not used by these tests', disabled: false, createdAtMs: 0 });
}

async function withTestStore(backend: 'sqlite' | 'postgres', fn: (handle: TestStore) => Promise<void>): Promise<void> {
  const handle = await openTestStore(backend);
  try {
    await fn(handle);
  } finally {
    await handle.cleanup();
  }
}

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`sessions (${backend}) – survive reopening the store`, async () => {
    await withTestStore(backend, async (handle) => {
      await addUser(handle.store, 'sup1', 'supervisor');
      let nowMs = 10_000;
      const before = storedSessions(handle.store, () => nowMs);
      const { token, session } = before.create('sup1', 'supervisor');
      nowMs = 10_600;
      assert.ok(before.touch(token));
      await before.close();

      const rows = await handle.store.listLiveWebSessions(ALL_SESSIONS);
      assert.equal(rows.length, 1);
      assert.notEqual(rows[0]!.tokenSha256, token, 'the store keeps a digest, not the token');
      assert.ok(!Object.values(rows[0]!).includes(token), 'no stored column contains the token');
      assert.equal(rows[0]!.lastSeenAtMs, 10_600, 'close writes the last touch');

      await handle.store.close();
      const reopened = await handle.reopen();
      nowMs = 11_000;
      const after = storedSessions(reopened, () => nowMs);
      assert.equal(await after.load(), 1);
      const resolved = after.touch(token);
      assert.ok(resolved, 'the token resolves after the reopen');
      assert.equal(resolved.username, 'sup1');
      assert.equal(resolved.role, 'supervisor');
      assert.equal(resolved.csrfToken, session.csrfToken);
      assert.equal(resolved.createdAtMs, 10_000);
      assert.equal(csrfTokenMatches(resolved, session.csrfToken), true);
      await after.close();
    });
  });

  test(`sessions (${backend}) – expired sessions not loaded`, async () => {
    await withTestStore(backend, async (handle) => {
      await addUser(handle.store, 'op1', 'operator');
      let nowMs = 0;
      const before = storedSessions(handle.store, () => nowMs);
      const idle = before.create('op1', 'operator');
      const old = before.create('op1', 'operator');
      nowMs = 900;
      assert.ok(before.touch(old.token));
      nowMs = 1000;
      const live = before.create('op1', 'operator');
      nowMs = 1900;
      assert.ok(before.touch(old.token));
      assert.ok(before.touch(live.token));
      await before.close();

      // At 2100 ms the idle session was last seen 2100 ms ago (limit 1000) and the old one started
      // 2100 ms ago (limit 2000), though it was seen 200 ms ago.
      nowMs = 2100;
      const after = storedSessions(handle.store, () => nowMs);
      assert.equal(await after.load(), 1);
      assert.equal(after.touch(idle.token), null, 'idle-expired session');
      assert.equal(after.touch(old.token), null, 'session past its maximum age');
      assert.ok(after.touch(live.token));
      const rows = await handle.store.listLiveWebSessions(ALL_SESSIONS);
      assert.equal(rows.length, 1, 'load purges the expired sessions from the store');
      await after.close();
    });
  });

  test(`sessions (${backend}) – destroy and revokeUser delete rows`, async () => {
    await withTestStore(backend, async (handle) => {
      await addUser(handle.store, 'op1', 'operator');
      await addUser(handle.store, 'sup1', 'supervisor');
      await addUser(handle.store, 'admin1', 'administrator');
      let nowMs = 0;
      const first = storedSessions(handle.store, () => nowMs);
      const second = storedSessions(handle.store, () => nowMs);
      const loggedOut = first.create('sup1', 'supervisor');
      const revoked = first.create('op1', 'operator');
      const revokedElsewhere = second.create('op1', 'operator');
      const remaining = first.create('admin1', 'administrator');
      await second.close();

      first.destroy(loggedOut.token);
      assert.equal(first.revokeUser('op1'), 1, "only the session in this instance's memory is counted");
      await first.close();
      const rows = await handle.store.listLiveWebSessions(ALL_SESSIONS);
      assert.deepEqual(rows.map((row) => row.username), ['admin1'], 'revokeUser also deletes the session the other instance stored');

      const restarted = storedSessions(handle.store, () => nowMs);
      assert.equal(await restarted.load(), 1);
      for (const ended of [loggedOut, revoked, revokedElsewhere]) assert.equal(restarted.touch(ended.token), null, ended.session.username);
      assert.ok(restarted.touch(remaining.token));
      await restarted.close();
    });
  });

  test(`sessions (${backend}) – user changed after login not loaded`, async () => {
    await withTestStore(backend, async (handle) => {
      await addUser(handle.store, 'op1', 'operator');
      await addUser(handle.store, 'op2', 'operator');
      let nowMs = 100;
      const before = storedSessions(handle.store, () => nowMs);
      const promoted = before.create('op1', 'operator');
      const disabled = before.create('op2', 'operator');
      const unknown = before.create('nobody', 'operator');
      await before.close();
      // The changes revoke nothing here, as if the delete of these sessions had failed.
      await handle.store.updateUser('op1', { role: 'supervisor', updatedAtMs: 200 });
      await handle.store.updateUser('op2', { disabled: true, updatedAtMs: 100 });

      nowMs = 300;
      const after = storedSessions(handle.store, () => nowMs);
      assert.equal(await after.load(), 0);
      assert.equal(after.touch(promoted.token), null, 'role changed after the login');
      assert.equal(after.touch(disabled.token), null, 'user disabled');
      assert.equal(after.touch(unknown.token), null, 'user not found');
      assert.deepEqual(await handle.store.listLiveWebSessions(ALL_SESSIONS), [], 'the dropped sessions are deleted');
      await after.close();
    });
  });

  test(`sessions (${backend}) – last-seen flushed by interval`, async () => {
    await withTestStore(backend, async (handle) => {
      let nowMs = 0;
      const sessions = storedSessions(handle.store, () => nowMs, { persistence: { store: handle.store, logger: silentLogger, flushIntervalMs: 20 } });
      const { token } = sessions.create('op1', 'operator');
      nowMs = 500;
      assert.ok(sessions.touch(token));
      const deadline = Date.now() + 5000;
      let lastSeenAtMs = 0;
      while (lastSeenAtMs !== 500 && Date.now() < deadline) {
        await sleep(20);
        lastSeenAtMs = (await handle.store.listLiveWebSessions(ALL_SESSIONS))[0]!.lastSeenAtMs;
      }
      assert.equal(lastSeenAtMs, 500, 'the touch reached the store without close()');
      await sessions.close();
    });
  });
}

test('sessions – failed store writes logged', async () => {
  await withTestStore('sqlite', async (handle) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const sessions = new SessionStore({ persistence: { store: handle.store, logger: pino({ level: 'error' }, sink) } });
    await handle.store.close();

    const { token } = sessions.create('op1', 'operator');
    assert.ok(sessions.touch(token), 'the session works in memory although the store is closed');
    sessions.destroy(token);
    await sessions.close();
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    assert.ok(messages.includes('failed to store a command-centre session in the central store; the user must log in again after a restart'), messages.join('\n'));
    assert.ok(messages.some((message) => message.startsWith('failed to delete a command-centre session')), messages.join('\n'));
    assert.ok(lines.every((line) => !line.includes(token)), 'the token is never logged');
  });
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
