// The demo path end to end: real clips served by GStreamer's RTSP server, the agent in its own
// process with the real models, the real Mosquitto on 127.0.0.1:1883 and the central service.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Hit } from '../src/central/hit.js';
import { projectRoot } from '../src/assets/paths.js';
import { loadDemoConfig } from '../src/demo/config.js';
import { compareHits } from '../src/demo/report.js';
import { runDemo } from '../src/demo/run.js';
import { fixturesDir, modelsDir, rtspCamerasAvailable } from './support/assets.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';

test('demo – expected hits through Mosquitto and RTSP', { timeout: 240_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  if (!(await rtspCamerasAvailable(t))) return;
  // The demo installs from these folders, the same ones the README's command names.
  process.env.VA_MODELS_DIR = models;
  process.env.VA_MEDIA_DIR = fixtures;

  const progress: string[] = [];
  const arrived: Hit[] = [];
  const report = await runDemo({
    // A car id of its own keeps another run on the same broker out of this run's counts.
    config: { ...loadDemoConfig(path.join(projectRoot(), 'config', 'demo.json')), carId: `demo-e2e-${process.pid}` },
    workDir: projectRoot(),
    once: true,
    brokerUrl: BROKER_URL,
    rtsp: true,
    logger: pino({ level: 'silent' }),
    onHit: (hit) => arrived.push(hit),
    onProgress: (line) => progress.push(line),
  });

  assert.ok(progress.some((line) => line.startsWith('cameras: RTSP')), `cameras should be RTSP: ${progress.join(' | ')}`);
  const comparison = compareHits(report);
  assert.deepEqual(comparison.missing, [], 'every expected hit should occur');
  assert.deepEqual(comparison.unexpected, [], 'no other hit should occur');
  assert.equal(arrived.length, report.hits.length, 'each hit is reported as it arrives');
  assert.ok(report.events.committed > 0, 'the car committed events');
  assert.equal(report.events.confirmed, report.events.committed, 'the central service receipted every event the car committed');
  assert.equal(report.events.ingested, report.events.committed, 'each event was stored centrally once');
  // The car has the same lists, signed by the demo's central service, so it raises each hit itself too.
  assert.ok(report.carHits >= report.expected.length, `the car raised ${report.carHits} hits itself, expected at least ${report.expected.length}`);
  for (const cameraId of Object.keys(report.framesByCamera)) {
    assert.ok(report.framesByCamera[cameraId]! > 0, `camera ${cameraId} delivered frames`);
  }
  for (const hit of report.hits) {
    assert.ok(hit.latency.frameToHitMs > 0, 'frame-to-hit latency is measured');
    assert.ok(hit.latency.inferenceMs > 0, 'inference time is measured');
    assert.ok(hit.evidence.length > 0, 'a hit carries its evidence');
  }
});
