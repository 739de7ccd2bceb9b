// The broker (a private Mosquitto with persistence) stopped for 60 s while all three cameras run:
// events wait in the car's outbox, and once the broker is back every one reaches the central side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerStoppedScenario } from '../bench/faults/scenarios.js';
import { assertNoLoss, faultRigOptions } from './support/fault-options.js';

test('broker fault – 60 s outage loses nothing', { timeout: 300_000 }, async (t) => {
  const options = await faultRigOptions(t);
  if (options === null) return;
  const result = await brokerStoppedScenario(options, 60_000);
  t.diagnostic(JSON.stringify(result));
  assertNoLoss(result);
  assert.ok(result.recoveryMs !== null, 'the backlog drains after the broker returns');
  // Inference does not depend on the link, so the cameras keep their pace offline.
  assert.ok(result.othersFpsDuring >= 0.5 * result.othersFpsBefore, `cameras ${result.othersFpsBefore} fps before, ${result.othersFpsDuring} fps during`);
});
