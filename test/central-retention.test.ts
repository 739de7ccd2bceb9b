// Retention purge job on a real SQLite store: days per kind of data become cutoffs, old rows go,
// evidence is stripped from what is kept, and each run is counted and audited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { CentralMetrics } from '../src/central/metrics.js';
import { RetentionJob, retentionCutoffs } from '../src/central/retention.js';
import { parseCentralConfig } from '../src/central/config.js';
import { faceEventFor, plateEventFor } from './support/central-load.js';
import { openTestStore } from './support/central-stores.js';
import { counterValue } from './support/central-instance.js';

const DAY_MS = 24 * 3600 * 1000;
const NOW_MS = 1_800_000_000_000;

test('retention – days become cutoffs', () => {
  const config = parseCentralConfig({ broker: { url: 'mqtt://127.0.0.1:1883' }, database: 'c.sqlite', hotlist: [], retention: { plateReadsDays: 2, auditDays: null } }, '/srv');
  const cutoffs = retentionCutoffs(config.retention, NOW_MS);
  assert.equal(cutoffs.plateReadsBeforeMs, NOW_MS - 2 * DAY_MS);
  assert.equal(cutoffs.auditBeforeMs, null, 'null days keep the audit log forever');
  assert.equal(cutoffs.hitsBeforeMs, NOW_MS - 365 * DAY_MS, 'hits default to one year');
  assert.equal(cutoffs.faceSightingsBeforeMs, NOW_MS - 7 * DAY_MS);
});

test('retention – purge job removes old data', async () => {
  const database = await openTestStore('sqlite');
  const registry = new Registry();
  const metrics = new CentralMetrics(registry);
  const config = parseCentralConfig({ broker: { url: 'mqtt://127.0.0.1:1883' }, database: 'c.sqlite', hotlist: [], retention: { plateReadsDays: 30, faceSightingsDays: 7, evidenceDays: 10 } }, '/srv');
  const job = new RetentionJob({ store: database.store, retention: config.retention, metrics, logger: pino({ level: 'silent' }), clock: () => NOW_MS });
  const store = database.store;
  try {
    const record = async (event: ReturnType<typeof plateEventFor> | ReturnType<typeof faceEventFor>, ageDays: number): Promise<void> => {
      const receivedAtMs = NOW_MS - ageDays * DAY_MS;
      await store.recordEvent({ event, receivedAtMs, clockOffsetMs: 0, candidate: null, hitAtMs: receivedAtMs, cooldownMs: 0, newHitId: `hit-${event.seq}` });
    };
    const withEvidence = { ...plateEventFor('car-1', 1, '沪B00001'), evidence: [{ kind: 'plate-crop' as const, jpegBase64: '/9j/AAAA' }] };
    await record(withEvidence, 20);
    await record(plateEventFor('car-1', 2, '沪B00002'), 31);
    await record(faceEventFor('car-1', 3, new Array(128).fill(0.1)), 8);
    await record(faceEventFor('car-1', 4, new Array(128).fill(0.1)), 1);

    const counts = await job.runOnce();
    assert.deepEqual(counts, { hits: 0, plateReads: 1, faceSightings: 1, objectEvents: 0, evidence: 1, audit: 0 });
    assert.deepEqual((await store.searchEvents({ carId: 'car-1' })).map((event) => event.seq), [4, 1]);
    assert.deepEqual((await store.getEvent('car-1', 1))?.evidence, []);

    const [audit] = await store.listAudit({ action: 'retention.purge' });
    assert.equal(audit?.actor, 'system');
    assert.deepEqual(audit?.details, counts);
    assert.equal(await counterValue(registry, 'patrol_central_purged_rows_total', { data: 'plateReads' }), 1);
    assert.equal(await counterValue(registry, 'patrol_central_purged_rows_total'), 3);

    assert.deepEqual(await job.runOnce(), { hits: 0, plateReads: 0, faceSightings: 0, objectEvents: 0, evidence: 0, audit: 0 });
    assert.equal((await store.listAudit({ action: 'retention.purge' })).length, 1, 'a run that removed nothing is not audited');
  } finally {
    await job.stop();
    await database.cleanup();
  }
});
