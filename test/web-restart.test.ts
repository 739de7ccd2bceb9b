// Command-centre logins across a restart of the whole central service, over real HTTP with the real
// Mosquitto. The store is a SQLite file or a schema on the real PostgreSQL server. The cookie and CSRF
// token from before a restart keep working, and a logout after it stays in force through the next one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseCentralConfig, type CentralConfig } from '../src/central/config.js';
import { startCentral, type RunningCentral } from '../src/central/start.js';
import type { StoreBackend } from '../src/central/store/store.js';
import { POSTGRES_URL, dropSchema, randomSchemaName } from './support/central-stores.js';
import { createUsers, PASSWORDS } from './support/web-harness.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';

interface Login {
  cookie: string;
  csrfToken: string;
}

/** Builds a config with the command centre on a free port and a broker session that ends with the connection. */
function centralConfig(backend: StoreBackend, dir: string, schema: string): CentralConfig {
  const runId = randomBytes(6).toString('hex');
  return parseCentralConfig(
    {
      broker: { url: BROKER_URL, clientId: `central-restart-${runId}`, protocolVersion: 5, shareGroup: `restart-${runId}`, sessionExpirySec: 0 },
      database: backend === 'sqlite' ? path.join(dir, 'central.sqlite') : { postgres: { url: POSTGRES_URL, schema, poolSize: 4 } },
      hotlist: [],
      http: { port: 0 },
      web: { enabled: true, port: 0, secureCookies: false },
    },
    dir,
  );
}

/** Runs the central service on one config. restart() stops the current run, if any, and starts a new one. */
function restartableCentral(config: CentralConfig) {
  let running: RunningCentral | null = null;
  const stop = async (): Promise<void> => {
    await running?.stop();
    running = null;
  };
  const restart = async (): Promise<{ central: RunningCentral; webUrl: string }> => {
    await stop();
    running = await startCentral(config, { logger: pino({ level: 'silent' }), registry: new Registry() });
    assert.ok(running.webUrl, 'the command centre is enabled');
    return { central: running, webUrl: running.webUrl };
  };
  return { restart, stop };
}

async function login(webUrl: string, username: string, password: string): Promise<Login> {
  const response = await fetch(`${webUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: webUrl },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const cookie = response.headers.getSetCookie().find((header) => header.startsWith('patrol_session='));
  assert.ok(cookie, 'login sets the session cookie');
  return { cookie: cookie.split(';')[0]!, csrfToken: ((await response.json()) as { csrfToken: string }).csrfToken };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`restart (${backend}) – cookie still logged in`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'web-restart-'));
    const schema = randomSchemaName('restart');
    const central = restartableCentral(centralConfig(backend, dir, schema));
    try {
      const first = await central.restart();
      const names = await createUsers(first.central.store);
      const session = await login(first.webUrl, names.supervisor, PASSWORDS.supervisor);

      const second = await central.restart();
      const current = await fetch(`${second.webUrl}/api/session`, { headers: { cookie: session.cookie } });
      assert.equal(current.status, 200, 'the cookie from before the restart is accepted');
      const body = (await current.json()) as { username: string; role: string; csrfToken: string };
      assert.equal(body.username, names.supervisor);
      assert.equal(body.role, 'supervisor');
      assert.equal(body.csrfToken, session.csrfToken, 'the CSRF token is unchanged');

      const audit = await fetch(`${second.webUrl}/api/audit`, { headers: { cookie: session.cookie } });
      assert.equal(audit.status, 200, 'the role from before the restart still grants its permissions');

      const logout = await fetch(`${second.webUrl}/api/logout`, {
        method: 'POST',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, origin: second.webUrl, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(logout.status, 200, 'a state-changing request passes the CSRF check with the old token');

      const third = await central.restart();
      const afterLogout = await fetch(`${third.webUrl}/api/session`, { headers: { cookie: session.cookie } });
      assert.equal(afterLogout.status, 401, 'the logout is still in force after the next restart');
    } finally {
      await central.stop();
      rmSync(dir, { recursive: true, force: true });
      if (backend === 'postgres') await dropSchema(schema);
    }
  });
}
