// List administration through the command centre's API: hotlist entries and CSV import, and face
// enrolment from real photos with the real models, on a real SQLite store and list manager. The
// list manager writes the audit entries; these tests check they name the administrator and reason.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { ListManager } from '../src/central/lists/list-manager.js';
import { LazyCascadeFaceEmbedder } from '../src/matching/lazy-embedder.js';
import { ListManagerAdmin } from '../src/central/web/list-admin.js';
import type { HitDecisions } from '../src/central/web/ports.js';
import { fixturesDir, modelsDir } from './support/assets.js';
import { openTestStore, type TestStore } from './support/central-stores.js';
import { createUsers, PASSWORDS, startCommandCentre, type RunningCommandCentre } from './support/web-harness.js';

const silent = pino({ level: 'silent' });

let testStore: TestStore;
let running: RunningCommandCentre;
let embedder: LazyCascadeFaceEmbedder | null = null;
let names: Awaited<ReturnType<typeof createUsers>>;
let session: { cookie: string; csrfToken: string };

const unusedDecisions: HitDecisions = {
  confirmHit: async () => assert.fail('confirmHit should not be called here'),
  dismissHit: async () => assert.fail('dismissHit should not be called here'),
};

before(async () => {
  testStore = await openTestStore('sqlite');
  names = await createUsers(testStore.store);
  // Without VA_MODELS_DIR the hotlist tests still run; the enrolment test then skips or, in CI, fails.
  const models = process.env.VA_MODELS_DIR === undefined ? null : modelsDir();
  embedder = models === null ? null : new LazyCascadeFaceEmbedder(models, silent);
  const manager = new ListManager({ store: testStore.store, logger: silent, ...(embedder === null ? {} : { embedder }) });
  await manager.syncConfig({ hotlist: [], faceLists: [{ listId: 'default', threshold: 0.4 }], subjects: [] });
  running = await startCommandCentre({ store: testStore.store, decisions: unusedDecisions, hits: new EventEmitter(), lists: new ListManagerAdmin(manager) });

  const response = await running.app.inject({ method: 'POST', url: '/api/login', payload: { username: names.administrator, password: PASSWORDS.administrator } });
  const cookie = response.cookies.find((entry) => entry.name === 'patrol_session')!;
  session = { cookie: `patrol_session=${cookie.value}`, csrfToken: (response.json() as { csrfToken: string }).csrfToken };
});

after(async () => {
  await running.app.close();
  await embedder?.close();
  await testStore.cleanup();
});

function get(url: string): Promise<LightMyRequestResponse> {
  return running.app.inject({ method: 'GET', url, headers: { cookie: session.cookie } });
}

function post(url: string, payload: object): Promise<LightMyRequestResponse> {
  return running.app.inject({ method: 'POST', url, payload, headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
}

test('hotlist – add, list and remove, audited', async () => {
  const added = await post('/api/hotlist', { plate: '川a·8h458', reason: 'stolen vehicle', priority: 2, expiresAtMs: null, changeReason: 'case 2026-31' });
  assert.equal(added.statusCode, 200, added.body);
  const entries = (await get('/api/hotlist')).json() as { entries: { plate: string; reason: string; priority: number; source: string }[] };
  const entry = entries.entries.find((candidate) => candidate.plate === '川A8H458');
  assert.deepEqual(entry, { plate: '川A8H458', reason: 'stolen vehicle', priority: 2, expiresAtMs: null, source: 'operator' });

  const invalid = await post('/api/hotlist', { plate: '川A8H458', reason: 'x', priority: 9, changeReason: 'case' });
  assert.equal(invalid.statusCode, 400);

  const removed = await post('/api/hotlist/remove', { plate: '川A8H458', changeReason: 'vehicle recovered' });
  assert.equal(removed.statusCode, 200, removed.body);
  const missing = await post('/api/hotlist/remove', { plate: '川A8H458', changeReason: 'again' });
  assert.equal(missing.statusCode, 404);
  assert.equal((missing.json() as { error: { code: string } }).error.code, 'HOTLIST_ENTRY_NOT_FOUND');

  const audit = await testStore.store.listAudit({ target: '川A8H458' });
  assert.deepEqual(audit.map((row) => [row.action, row.actor, row.reason]), [
    ['hotlist.remove', names.administrator, 'vehicle recovered'],
    ['hotlist.add', names.administrator, 'case 2026-31'],
  ]);
});

test('hotlist – CSV import reports rejected lines', async () => {
  const csv = ['plate,reason,priority', '京EA5331,wanted,1', '苏A11111,,2', '沪B12345,stolen,7', '苏E99999,stolen,3'].join('\n');
  const response = await post('/api/hotlist/import', { csv, changeReason: 'weekly list' });
  assert.equal(response.statusCode, 200, response.body);
  const { report } = response.json() as { report: { accepted: number; rejected: { line: number; reason: string }[] } };
  assert.equal(report.accepted, 2);
  assert.deepEqual(report.rejected.map((line) => line.line), [3, 4]);
  for (const line of report.rejected) assert.ok(line.reason.length > 0);

  const plates = ((await get('/api/hotlist')).json() as { entries: { plate: string }[] }).entries.map((entry) => entry.plate);
  assert.ok(plates.includes('京EA5331'));
  assert.ok(plates.includes('苏E99999'));
  assert.ok(!plates.includes('沪B12345'));
  assert.ok(!plates.includes('苏A11111'));
  const audit = await testStore.store.listAudit({ action: 'hotlist.import' });
  assert.equal(audit[0]?.actor, names.administrator);
  assert.equal(audit[0]?.reason, 'weekly list');
});

test('watchlist – enrol from real photos', async (t) => {
  const faces = fixturesDir(t);
  if (modelsDir(t) === null || faces === null || embedder === null) return;
  const photo = (name: string) => readFileSync(path.join(faces, 'faces', name)).toString('base64');
  const plates = readFileSync(path.join(faces, 'plates', 'labels.json'), 'utf8');
  const noFacePhoto = Object.keys(JSON.parse(plates) as Record<string, unknown>)[0]!;

  const response = await post('/api/watchlist/enrol', {
    subjectId: 'subject-c',
    label: 'subject c',
    photosBase64: [photo('subject-c-1.jpg'), readFileSync(path.join(faces, 'plates', noFacePhoto)).toString('base64')],
    changeReason: 'warrant 2026-7',
  });
  assert.equal(response.statusCode, 200, response.body);
  const result = response.json() as { subject: { subjectId: string; photoCount: number }; rejectedPhotos: { name: string; reason: string }[] };
  assert.equal(result.subject.photoCount, 1);
  assert.deepEqual(result.rejectedPhotos.map((rejected) => rejected.name), ['photo 2']);

  const subjects = ((await get('/api/watchlist')).json() as { subjects: { subjectId: string; listId: string }[] }).subjects;
  assert.deepEqual(subjects.map((subject) => [subject.subjectId, subject.listId]), [['subject-c', 'default']]);
  const audit = await testStore.store.listAudit({ action: 'watchlist.enrol', target: 'subject-c' });
  assert.equal(audit[0]?.actor, names.administrator);
  assert.equal(audit[0]?.reason, 'warrant 2026-7');

  const noFace = await post('/api/watchlist/enrol', { subjectId: 'nobody', label: 'nobody', photosBase64: [readFileSync(path.join(faces, 'plates', noFacePhoto)).toString('base64')], changeReason: 'test' });
  assert.equal(noFace.statusCode, 422);
  assert.equal((noFace.json() as { error: { code: string } }).error.code, 'ENROL_REJECTED');
});
