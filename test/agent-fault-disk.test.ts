// The disk budget exceeded: the broker is down while the outbox has caps of a few tens of KiB, so
// evidence of non-hits and then whole non-hit events are evicted, counted and logged. Hits keep
// their evidence. Whatever was not evicted reaches the central side once the broker is back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diskBudgetScenario } from '../bench/faults/scenarios.js';
import { assertNoLoss, faultRigOptions } from './support/fault-options.js';

test('disk fault – budget evicts non-hits only', { timeout: 300_000 }, async (t) => {
  const options = await faultRigOptions(t);
  if (options === null) return;
  const result = await diskBudgetScenario(options, 30_000);
  t.diagnostic(JSON.stringify(result));
  assertNoLoss(result);
  assert.ok(result.evidenceEvicted > 0, 'evidence was evicted to keep the budget');
  assert.equal(result.hitsWithEvidence, result.hitsReceived, 'every hit keeps its evidence');
  assert.equal(result.accountedFor, result.produced, 'each event either arrived or was evicted and logged');
});
