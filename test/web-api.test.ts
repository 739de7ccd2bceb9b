// The command centre's HTTP API on a real SQLite store: login, cookies, CSRF and Origin checks, role
// checks per route, audited searches and user changes, hits, fleet status and the page's assets.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import WebSocket from 'ws';
import type { CentralStore } from '../src/central/store/store.js';
import type { CommandCentrePorts, HitDecisions } from '../src/central/web/ports.js';
import { en } from '../src/central/web/messages/en.js';
import { zhCN } from '../src/central/web/messages/zh-CN.js';
import { openTestStore, type TestStore } from './support/central-stores.js';
import { createUsers, PASSWORDS, plateCandidate, plateEvent, startCommandCentre, type RunningCommandCentre } from './support/web-harness.js';

interface Login {
  cookie: string;
  csrfToken: string;
}

let testStore: TestStore;
let store: CentralStore;
let running: RunningCommandCentre;
let app: FastifyInstance;
let names: Awaited<ReturnType<typeof createUsers>>;
const hitSource = new EventEmitter();

/** Fails the test when a route calls it; these tests do not decide hits (web-browser tests do). */
const unusedDecisions: HitDecisions = {
  confirmHit: async () => assert.fail('confirmHit should not be called here'),
  dismissHit: async () => assert.fail('dismissHit should not be called here'),
};

before(async () => {
  testStore = await openTestStore('sqlite');
  store = testStore.store;
  names = await createUsers(store);
  const ports: CommandCentrePorts = { store, decisions: unusedDecisions, hits: hitSource };
  running = await startCommandCentre(ports);
  app = running.app;
});

after(async () => {
  await app.close();
  await testStore.cleanup();
});

async function login(username: string, password: string): Promise<Login> {
  const response = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
  assert.equal(response.statusCode, 200, response.body);
  const cookie = response.cookies.find((entry) => entry.name === 'patrol_session');
  assert.ok(cookie, 'login sets the session cookie');
  return { cookie: `patrol_session=${cookie.value}`, csrfToken: (response.json() as { csrfToken: string }).csrfToken };
}

function get(session: Login | null, url: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: session === null ? {} : { cookie: session.cookie } });
}

function post(session: Login, url: string, payload: object, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, payload, headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, ...headers } });
}

function errorCode(response: LightMyRequestResponse): string {
  return (response.json() as { error: { code: string } }).error.code;
}

test('login – cookie is httpOnly and SameSite=Strict', async () => {
  const response = await app.inject({ method: 'POST', url: '/api/login', payload: { username: names.operator, password: PASSWORDS.operator } });
  assert.equal(response.statusCode, 200);
  const cookie = response.cookies.find((entry) => entry.name === 'patrol_session');
  assert.ok(cookie);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/');
  const body = response.json() as { username: string; role: string; permissions: string[]; csrfToken: string };
  assert.equal(body.username, names.operator);
  assert.equal(body.role, 'operator');
  assert.deepEqual(body.permissions.sort(), ['hits.decide', 'hits.view']);
  assert.ok(body.csrfToken.length >= 40);
});

test('login – wrong password and unknown user rejected alike', async () => {
  const wrong = await app.inject({ method: 'POST', url: '/api/login', payload: { username: names.supervisor, password: 'not the password' } });
  const unknown = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'nobody-here', password: 'not the password' } });
  for (const response of [wrong, unknown]) {
    assert.equal(response.statusCode, 401);
    assert.equal(errorCode(response), 'LOGIN_FAILED');
    assert.equal(response.cookies.length, 0, 'no cookie on failure');
  }
  const failures = await store.listAudit({ action: 'user.login-failed', target: names.supervisor });
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.actor, names.supervisor);
});

test('login – locked after five failures', async () => {
  const username = `locked${Date.now()}`;
  await store.createUser({ username, role: 'operator', passwordHash: (await store.getUser(names.operator))!.passwordHash, disabled: false, createdAtMs: Date.now() });
  for (let attempt = 0; attempt < 5; attempt++) {
    const response = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password: 'wrong password!' } });
    assert.equal(errorCode(response), 'LOGIN_FAILED');
  }
  const locked = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password: PASSWORDS.operator } });
  assert.equal(locked.statusCode, 429);
  assert.equal(errorCode(locked), 'LOGIN_LOCKED');
});

test('login – disabled user cannot log in', async () => {
  const username = `gone${Date.now()}`;
  await store.createUser({ username, role: 'operator', passwordHash: (await store.getUser(names.operator))!.passwordHash, disabled: true, createdAtMs: Date.now() });
  const response = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password: PASSWORDS.operator } });
  assert.equal(response.statusCode, 401);
});

test('guard – no session is 401', async () => {
  for (const url of ['/api/session', '/api/hits', '/api/fleet', '/api/audit']) {
    const response = await get(null, url);
    assert.equal(response.statusCode, 401, url);
    assert.equal(errorCode(response), 'UNAUTHENTICATED', url);
  }
  const forged = await app.inject({ method: 'GET', url: '/api/hits', headers: { cookie: 'patrol_session=forged-token' } });
  assert.equal(forged.statusCode, 401);
});

test('guard – POST without CSRF token is rejected', async () => {
  const session = await login(names.supervisor, PASSWORDS.supervisor);
  const missing = await app.inject({ method: 'POST', url: '/api/events/search', payload: { reason: 'case 1' }, headers: { cookie: session.cookie } });
  assert.equal(missing.statusCode, 403);
  assert.equal(errorCode(missing), 'CSRF_REJECTED');
  const wrong = await post(session, '/api/events/search', { reason: 'case 1' }, { 'x-csrf-token': 'wrong' });
  assert.equal(errorCode(wrong), 'CSRF_REJECTED');
  const searches = await store.listAudit({ action: 'events.search', actor: names.supervisor });
  assert.equal(searches.filter((entry) => entry.reason === 'case 1').length, 0, 'a rejected search is not run or audited');
});

test('guard – cross-site Origin is rejected', async () => {
  const session = await login(names.supervisor, PASSWORDS.supervisor);
  const response = await post(session, '/api/events/search', { reason: 'case 2' }, { origin: 'http://evil.example', host: '127.0.0.1:8080' });
  assert.equal(response.statusCode, 403);
  assert.equal(errorCode(response), 'ORIGIN_REJECTED');
  const loginFromElsewhere = await app.inject({ method: 'POST', url: '/api/login', payload: { username: names.operator, password: PASSWORDS.operator }, headers: { origin: 'http://evil.example' } });
  assert.equal(loginFromElsewhere.statusCode, 403);
  const sameSite = await post(session, '/api/events/search', { reason: 'case 2' }, { origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' });
  assert.equal(sameSite.statusCode, 200);
});

test('roles – operator denied supervisor routes', async () => {
  const session = await login(names.operator, PASSWORDS.operator);
  for (const url of ['/api/audit', '/api/users', '/api/hotlist', '/api/watchlist']) {
    const response = await get(session, url);
    assert.equal(response.statusCode, 403, url);
    assert.equal(errorCode(response), 'FORBIDDEN', url);
  }
  const search = await post(session, '/api/events/search', { reason: 'curious' });
  assert.equal(search.statusCode, 403);
  assert.equal((await get(session, '/api/hits')).statusCode, 200);
  assert.equal((await get(session, '/api/fleet')).statusCode, 200);
});

test('roles – supervisor reads audit but not users', async () => {
  const session = await login(names.supervisor, PASSWORDS.supervisor);
  assert.equal((await get(session, '/api/audit')).statusCode, 200);
  assert.equal((await get(session, '/api/users')).statusCode, 403);
  const admin = await login(names.administrator, PASSWORDS.administrator);
  assert.equal((await get(admin, '/api/users')).statusCode, 200);
  assert.equal((await get(admin, '/api/audit')).statusCode, 200);
});

test('search – audited with who and why, then run', async () => {
  const carId = `car-search-${Date.now()}`;
  const nowMs = Date.now();
  await store.recordEvent({ event: plateEvent(carId, 1, '川A8H458', nowMs - 2000), receivedAtMs: nowMs - 1900, clockOffsetMs: 0, candidate: plateCandidate('川A8H458'), hitAtMs: nowMs - 1900, cooldownMs: 60_000, newHitId: `hit-${carId}` });
  await store.recordEvent({ event: plateEvent(carId, 2, '川A12345', nowMs - 1000), receivedAtMs: nowMs - 900, clockOffsetMs: 0, candidate: null, hitAtMs: nowMs - 900, cooldownMs: 60_000, newHitId: 'unused' });
  await store.recordEvent({ event: plateEvent(carId, 3, '沪B77777', nowMs - 500), receivedAtMs: nowMs - 400, clockOffsetMs: 0, candidate: null, hitAtMs: nowMs - 400, cooldownMs: 60_000, newHitId: 'unused' });

  const session = await login(names.supervisor, PASSWORDS.supervisor);
  const noReason = await post(session, '/api/events/search', { carId });
  assert.equal(noReason.statusCode, 400);

  const exact = await post(session, '/api/events/search', { plate: '川a8h458', carId, reason: 'case 2026-17' });
  assert.equal(exact.statusCode, 200, exact.body);
  const exactEvents = (exact.json() as { events: { seq: number; hitId: string | null; plateText: string }[] }).events;
  assert.deepEqual(exactEvents.map((event) => event.seq), [1]);
  assert.equal(exactEvents[0]!.hitId, `hit-${carId}`);

  const prefix = await post(session, '/api/events/search', { plate: '川A*', carId, reason: 'case 2026-18' });
  assert.deepEqual((prefix.json() as { events: { seq: number }[] }).events.map((event) => event.seq), [2, 1]);

  const window = await post(session, '/api/events/search', { carId, fromMs: nowMs - 1500, toMs: nowMs, reason: 'case 2026-19' });
  assert.deepEqual((window.json() as { events: { seq: number }[] }).events.map((event) => event.seq), [3, 2]);

  const audit = await store.listAudit({ action: 'events.search', actor: names.supervisor, limit: 10 });
  const entry = audit.find((candidate) => candidate.reason === 'case 2026-17');
  assert.ok(entry, 'the search is in the audit log');
  assert.equal(entry.target, '川A8H458');
  assert.deepEqual(entry.details, { query: { carId, limit: 100, plate: '川A8H458' } });
});

test('hits – newest first with evidence and position', async () => {
  const carId = `car-hits-${Date.now()}`;
  const nowMs = Date.now();
  for (const [seq, plate] of [[1, '京EA5331'], [2, '川A8H458']] as const) {
    await store.recordEvent({ event: plateEvent(carId, seq, plate, nowMs + seq), receivedAtMs: nowMs + seq, clockOffsetMs: 0, candidate: plateCandidate(plate), hitAtMs: nowMs + seq, cooldownMs: 60_000, newHitId: `hit-${carId}-${seq}` });
  }
  const session = await login(names.operator, PASSWORDS.operator);
  const response = await get(session, '/api/hits?limit=2');
  assert.equal(response.statusCode, 200);
  const hits = (response.json() as { hits: { hitId: string; plate: string; evidence: { jpegBase64: string }[]; position: unknown; decision: unknown; listReason: string }[] }).hits;
  assert.deepEqual(hits.map((hit) => hit.hitId), [`hit-${carId}-2`, `hit-${carId}-1`]);
  assert.equal(hits[0]!.plate, '川A8H458');
  assert.equal(hits[0]!.listReason, 'stolen vehicle');
  assert.ok(hits[0]!.evidence[0]!.jpegBase64.startsWith('/9j/'), 'evidence is a base64 JPEG');
  assert.deepEqual(hits[0]!.position, { latitude: 30.65731, longitude: 104.06592 });
  assert.equal(hits[0]!.decision, null);
  assert.equal((await get(session, '/api/hits?limit=100000')).statusCode, 400);
});

test('fleet – online from last contact, cameras from status', async () => {
  const carId = `car-fleet-${Date.now()}`;
  const nowMs = Date.now();
  await store.recordCarStatus({ v: 1, kind: 'status', carId, sentAtMs: nowMs, clockOffsetMs: 3, outboxBacklog: 7, cameras: [{ cameraId: 'front', state: 'up', analysedFps: 4.5 }, { cameraId: 'rear', state: 'down', analysedFps: 0 }] }, nowMs);
  const staleCar = `${carId}-stale`;
  await store.recordCarStatus({ v: 1, kind: 'status', carId: staleCar, sentAtMs: nowMs, clockOffsetMs: 0, outboxBacklog: 0, cameras: [] }, nowMs - 5 * 60_000);

  const session = await login(names.operator, PASSWORDS.operator);
  const cars = (await get(session, '/api/fleet')).json() as { cars: { carId: string; online: boolean; camerasUp: number | null; camerasTotal: number | null; analysedFps: number | null; outboxBacklog: number | null }[] };
  const car = cars.cars.find((entry) => entry.carId === carId);
  assert.deepEqual(car, { carId, online: true, lastContactAtMs: nowMs, camerasUp: 1, camerasTotal: 2, analysedFps: 4.5, outboxBacklog: 7 });
  const stale = cars.cars.find((entry) => entry.carId === staleCar);
  assert.equal(stale?.online, false);
  assert.equal(stale?.camerasUp, null);
});

test('users – admin creates, changes and audits users', async () => {
  const admin = await login(names.administrator, PASSWORDS.administrator);
  const username = `newop${Date.now()}`;
  const weak = await post(admin, '/api/users', { username, role: 'operator', password: 'short', reason: 'new shift' });
  assert.equal(errorCode(weak), 'PASSWORD_TOO_SHORT');

  const created = await post(admin, '/api/users', { username, role: 'operator', password: 'a long enough password', reason: 'new shift' });
  assert.equal(created.statusCode, 200, created.body);
  const duplicate = await post(admin, '/api/users', { username, role: 'operator', password: 'a long enough password', reason: 'again' });
  assert.equal(errorCode(duplicate), 'USER_EXISTS');

  const newUser = await login(username, 'a long enough password');
  assert.equal((await get(newUser, '/api/audit')).statusCode, 403);
  const promoted = await post(admin, `/api/users/${username}`, { role: 'supervisor', reason: 'promoted to shift lead' });
  assert.equal(promoted.statusCode, 200, promoted.body);
  assert.equal((await get(newUser, '/api/audit')).statusCode, 401, 'a role change ends the old session');
  const again = await login(username, 'a long enough password');
  assert.equal((await get(again, '/api/audit')).statusCode, 200);

  const audit = await store.listAudit({ target: username, limit: 10 });
  const changes = audit.filter((entry) => entry.action === 'user.create' || entry.action === 'user.update');
  assert.deepEqual(changes.map((entry) => [entry.action, entry.actor, entry.reason]), [
    ['user.update', names.administrator, 'promoted to shift lead'],
    ['user.create', names.administrator, 'new shift'],
  ]);
});

test('users – admin cannot demote or disable self', async () => {
  const admin = await login(names.administrator, PASSWORDS.administrator);
  const demote = await post(admin, `/api/users/${names.administrator}`, { role: 'operator', reason: 'oops' });
  assert.equal(errorCode(demote), 'USER_SELF_CHANGE');
  const disable = await post(admin, `/api/users/${names.administrator}`, { disabled: true, reason: 'oops' });
  assert.equal(errorCode(disable), 'USER_SELF_CHANGE');
  assert.equal((await store.getUser(names.administrator))?.role, 'administrator');
});

test('logout – ends the session', async () => {
  const session = await login(names.operator, PASSWORDS.operator);
  const response = await post(session, '/api/logout', {});
  assert.equal(response.statusCode, 200);
  assert.equal((await get(session, '/api/session')).statusCode, 401);
});

test('lists – unavailable without list administration', async () => {
  const admin = await login(names.administrator, PASSWORDS.administrator);
  const response = await get(admin, '/api/hotlist');
  assert.equal(response.statusCode, 501);
  assert.equal(errorCode(response), 'LISTS_UNAVAILABLE');
});

test('page – served with a strict content security policy', async () => {
  const page = await get(null, '/');
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);
  assert.match(page.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal((await get(null, '/assets/app.js')).statusCode, 200);
  assert.equal((await get(null, '/assets/../register.ts')).statusCode, 404);
  const chinese = (await get(null, '/i18n/zh-CN.json')).json() as Record<string, string>;
  assert.equal(chinese['hit.confirm'], '确认');
  assert.equal((await get(null, '/i18n/fr.json')).statusCode, 404);
});

test('messages – every key the page uses exists', () => {
  const html = readFileSync(new URL('../src/central/web/public/index.html', import.meta.url), 'utf8');
  const script = readFileSync(new URL('../src/central/web/public/app.js', import.meta.url), 'utf8');
  const staticKeys = [...html.matchAll(/data-i18n="([^"]+)"/g), ...script.matchAll(/\bt\('([^']+)'/g)].map((match) => match[1]!);
  assert.ok(staticKeys.length > 60, `found ${staticKeys.length} keys`);
  for (const key of staticKeys) {
    assert.ok(key in en, `English lacks ${key}`);
    assert.ok(key in zhCN, `Chinese lacks ${key}`);
  }
  const roles = ['operator', 'supervisor', 'administrator'].map((role) => `role.${role}`);
  const statuses = ['open', 'confirmed', 'dismissed'].map((status) => `hit.status.${status}`);
  for (const key of [...roles, ...statuses, 'hit.match.tolerant', 'hit.kind.face', 'search.kind.objects', 'error.HIT_ALREADY_DECIDED']) assert.ok(key in zhCN, key);
  assert.match(zhCN['app.title'], /[\u4e00-\u9fff]/, 'the Chinese title is in Chinese');
});

/** Opens the live socket and resolves with it once open, or with the HTTP status that rejected the handshake. */
function openLive(headers: Record<string, string>): Promise<{ socket: WebSocket } | { status: number }> {
  const socket = new WebSocket(`${running.url.replace('http', 'ws')}/api/live`, { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0 }));
    socket.once('error', reject);
  });
}

test('live – handshake needs a session and this origin', async () => {
  const anonymous = await openLive({});
  assert.deepEqual(anonymous, { status: 401 });
  const session = await login(names.operator, PASSWORDS.operator);
  const crossSite = await openLive({ cookie: session.cookie, origin: 'http://evil.example' });
  assert.deepEqual(crossSite, { status: 403 });
});

test('live – sends new hits, closes on logout', async () => {
  const session = await login(names.operator, PASSWORDS.operator);
  const opened = await openLive({ cookie: session.cookie, origin: running.url });
  assert.ok('socket' in opened, 'the socket opens');
  const { socket } = opened;

  const carId = `car-live-${Date.now()}`;
  const nowMs = Date.now();
  const outcome = await store.recordEvent({ event: plateEvent(carId, 1, '川A8H458', nowMs), receivedAtMs: nowMs, clockOffsetMs: 0, candidate: plateCandidate('川A8H458'), hitAtMs: nowMs, cooldownMs: 60_000, newHitId: `hit-${carId}` });
  assert.ok(!outcome.duplicate && outcome.hit !== null);
  const message = new Promise<{ type: string; hit: { hitId: string; carId: string; decision: unknown } }>((resolve) => socket.once('message', (data) => resolve(JSON.parse(String(data)))));
  hitSource.emit('hit', outcome.hit);
  const received = await message;
  assert.equal(received.type, 'hit');
  assert.equal(received.hit.hitId, `hit-${carId}`);
  assert.equal(received.hit.decision, null);

  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await post(session, '/api/logout', {});
  assert.equal(await closed, 4401, 'logout closes the socket with the session-ended code');
});
