// Options for the fault rig (null when its assets or tools are missing and the test may skip), and
// the checks every fault run must pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import type { RigOptions } from '../../bench/faults/rig.js';
import type { FaultResult } from '../../bench/faults/scenarios.js';
import { rtspAvailable } from '../../src/video/rtsp-server.js';
import { fixturesDir, modelsDir } from './assets.js';

export async function faultRigOptions(t: TestContext): Promise<RigOptions | null> {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return null;
  const missing: string[] = [];
  if (!(await rtspAvailable())) missing.push('GStreamer RTSP server bindings');
  if (spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error !== undefined) missing.push('mosquitto');
  if (spawnSync('gpsfake', ['-h'], { stdio: 'ignore' }).status !== 0) missing.push('gpsfake (Debian gpsd-clients)');
  if (missing.length > 0) {
    if (process.env.VA_REQUIRE_ASSETS === '1') assert.fail(`${missing.join(' and ')} missing; run scripts/setup.sh`);
    t.skip(`${missing.join(' and ')} missing`);
    return null;
  }
  return { modelsDir: models, fixturesDir: fixtures };
}

/** Checks that hold after every fault: nothing lost, clean stop, nothing private in the logs. */
export function assertNoLoss(result: FaultResult): void {
  assert.ok(result.produced > 0, 'the car produced events');
  assert.equal(result.lost, 0, `events lost: ${JSON.stringify(result)}`);
  assert.equal(result.invalidReceived, 0, 'every received event passes the central schema');
  assert.equal(result.eventsWithPosition + result.eventsWithoutFix, result.received, 'every event gives a position or says it had no fix');
  assert.ok(result.eventsWithPosition > 0, 'positions from gpsd reach the events');
  assert.ok(result.eventsWithClockOffset > 0, 'events carry the measured clock offset');
  // Car and central side share this machine's clock, so the measured offset is near zero.
  assert.ok((result.maxAbsClockOffsetMs ?? Infinity) < 100, `clock offset ${result.maxAbsClockOffsetMs} ms`);
  assert.ok(result.hitsReceived > 0, 'hits found on the car arrive');
  assert.equal(result.stopExitCode, 0, 'SIGTERM stops the agent cleanly');
  assert.equal(result.outboxIntact, true, 'the outbox passes SQLite integrity_check');
  assert.equal(result.cleanDisconnect, true, 'the broker saw a clean MQTT disconnect');
  assert.equal(result.ffmpegLeftRunning, 0, 'SIGTERM stopped every camera reader');
  assert.deepEqual(result.nonHitPlatesLogged, [], 'plates of non-hits never reach the log');
}
