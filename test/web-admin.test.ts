// The first administrator: from the environment at start-up or from the one-time create-admin
// command, on a real SQLite store. Neither path allows a second administrator to be added this way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { createInitialAdministrator, ensureAdministratorFromEnv, InitialAdminError } from '../src/central/auth/initial-admin.js';
import { verifyPassword } from '../src/central/auth/password.js';
import { SqliteStore } from '../src/central/store/sqlite-store.js';
import { openTestStore } from './support/central-stores.js';

const silent = pino({ level: 'silent' });
const PROJECT_DIR = path.resolve(import.meta.dirname, '..');

test('initial admin – created once, audited as system', async () => {
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    await createInitialAdministrator(store, 'chief', 'a very long password', { origin: 'a test' });
    const user = await store.getUser('chief');
    assert.equal(user?.role, 'administrator');
    assert.equal(await verifyPassword('a very long password', user!.passwordHash), true);
    const audit = await store.listAudit({ target: 'chief' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor, 'system');
    assert.equal(audit[0]!.action, 'user.create');

    await assert.rejects(
      createInitialAdministrator(store, 'second', 'another long password', { origin: 'a test' }),
      (error: unknown) => error instanceof InitialAdminError && error.code === 'ADMIN_EXISTS',
    );
    assert.equal(await store.getUser('second'), null);
  } finally {
    await cleanup();
  }
});

test('initial admin – bad name or short password rejected', async () => {
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    await assert.rejects(createInitialAdministrator(store, 'bad name', 'a very long password', { origin: 'a test' }), { code: 'ADMIN_USERNAME_INVALID' });
    await assert.rejects(createInitialAdministrator(store, 'chief', 'short', { origin: 'a test' }), { code: 'PASSWORD_TOO_SHORT' });
    assert.deepEqual(await store.listUsers(), []);
  } finally {
    await cleanup();
  }
});

test('initial admin – from the environment', async () => {
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    assert.equal(await ensureAdministratorFromEnv(store, {}, silent), false);
    await assert.rejects(ensureAdministratorFromEnv(store, { PATROL_ADMIN_USERNAME: 'chief' }, silent), { code: 'ADMIN_ENV_INCOMPLETE' });

    const env = { PATROL_ADMIN_USERNAME: 'chief', PATROL_ADMIN_PASSWORD: 'a very long password' };
    assert.equal(await ensureAdministratorFromEnv(store, env, silent), true);
    assert.equal((await store.getUser('chief'))?.role, 'administrator');
    assert.equal(await ensureAdministratorFromEnv(store, { ...env, PATROL_ADMIN_USERNAME: 'other' }, silent), false, 'ignored once an administrator exists');
    assert.equal(await store.getUser('other'), null);
  } finally {
    await cleanup();
  }
});

test('create-admin command – reads password from stdin', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'create-admin-'));
  try {
    const configPath = path.join(dir, 'central.json');
    writeFileSync(configPath, JSON.stringify({ broker: { url: 'mqtt://127.0.0.1:1883' }, database: 'central.sqlite', hotlist: [] }));
    const run = (username: string, password: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/central/auth/admin-cli.ts', '--config', configPath, '--username', username], { cwd: PROJECT_DIR, input: `${password}\n`, encoding: 'utf8' });

    const first = run('chief', 'a very long password');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /administrator chief created/);
    assert.doesNotMatch(first.stdout + first.stderr, /a very long password/);

    const second = run('deputy', 'another long password');
    assert.equal(second.status, 1);
    assert.match(second.stderr, /ADMIN_EXISTS/);

    const store = new SqliteStore(path.join(dir, 'central.sqlite'));
    const users = await store.listUsers();
    await store.close();
    assert.deepEqual(users.map((user) => [user.username, user.role]), [['chief', 'administrator']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
