// The agent process killed with SIGKILL mid-run, while a frozen broker leaves events unacknowledged,
// and started again on the same data folder: those events are sent after the restart, and sequence
// numbers are never reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentKilledScenario } from '../bench/faults/scenarios.js';
import { assertNoLoss, faultRigOptions } from './support/fault-options.js';

test('agent fault – SIGKILL loses nothing', { timeout: 300_000 }, async (t) => {
  const options = await faultRigOptions(t);
  if (options === null) return;
  const result = await agentKilledScenario(options);
  t.diagnostic(JSON.stringify(result));
  assertNoLoss(result);
  assert.ok((result.backlogAtKill ?? 0) > 0, 'events were waiting unacknowledged when the agent was killed');
  assert.ok(result.recoveryMs !== null, 'every camera is analysed again after the restart');
  assert.equal(result.received, result.produced, 'each sequence number from 1 to the last arrived');
});
