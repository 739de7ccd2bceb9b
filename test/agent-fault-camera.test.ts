// Camera faults with real ffmpeg, real RTSP cameras (one server process per camera), the real
// models and a private Mosquitto: a camera killed and restarted, and a camera frozen with SIGSTOP.
// Every event the car produced reaches the central side once, and the other cameras keep their pace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cameraFrozenScenario, cameraKilledScenario } from '../bench/faults/scenarios.js';
import { assertNoLoss, faultRigOptions } from './support/fault-options.js';

test('camera fault – killed camera recovers', { timeout: 240_000 }, async (t) => {
  const options = await faultRigOptions(t);
  if (options === null) return;
  const result = await cameraKilledScenario(options);
  t.diagnostic(JSON.stringify(result));
  assertNoLoss(result);
  assert.ok(result.recoveryMs !== null, 'the camera delivers frames again');
  assert.ok((result.faultyCameraRestarts ?? 0) >= 1, 'the reader restarted ffmpeg');
  // Loose bound: the machine is shared, but a dead camera must not starve the others.
  assert.ok(result.othersFpsDuring >= 0.5 * result.othersFpsBefore, `other cameras ${result.othersFpsBefore} fps before, ${result.othersFpsDuring} fps during`);
});

test('camera fault – frozen camera recovers', { timeout: 240_000 }, async (t) => {
  const options = await faultRigOptions(t);
  if (options === null) return;
  const result = await cameraFrozenScenario(options);
  t.diagnostic(JSON.stringify(result));
  assertNoLoss(result);
  assert.ok(result.recoveryMs !== null, 'the camera delivers frames again');
  assert.ok((result.faultyCameraRestarts ?? 0) >= 1, 'the no-frame watchdog noticed the frozen camera and restarted ffmpeg');
  // The reader's no-frame watchdog is 4 s; polling /metrics adds up to a few hundred ms.
  assert.ok(result.detectionMs !== null && result.detectionMs <= 6000, `frozen camera noticed after ${result.detectionMs} ms`);
  assert.ok(result.othersFpsDuring >= 0.5 * result.othersFpsBefore, `other cameras ${result.othersFpsBefore} fps before, ${result.othersFpsDuring} fps during`);
});
