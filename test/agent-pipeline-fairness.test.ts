// Fair dropping under load, with a scripted engine that takes 20 ms a frame: a quiet camera keeps
// nearly all of its frames, busy cameras share the rest evenly, and every drop is counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { InferenceEngine } from '../agent/inference/engine.js';
import type { FrameAnalysis } from '../agent/inference/frame-analyser.js';
import { AgentMetrics } from '../agent/metrics.js';
import { FramePipeline } from '../agent/pipeline/frame-pipeline.js';
import { Outbox } from '../agent/uplink/outbox.js';

const ANALYSIS_MS = 20;

/** An engine with one slot that finds nothing and takes a fixed time per frame. */
const slowEngine: InferenceEngine = {
  slots: 1,
  kind: 'main-thread',
  analyse: async (): Promise<FrameAnalysis> => {
    await new Promise((resolve) => setTimeout(resolve, ANALYSIS_MS));
    return { objects: [], plates: [], faces: [], rejectedPlateReads: 0, timingsMs: { objects: ANALYSIS_MS, plates: 0, faces: 0, embeddings: 0 }, faceSearch: 'off' };
  },
  close: async () => {},
};

test('fairness – busy cameras share, quiet kept', { timeout: 30_000 }, async () => {
  const outbox = new Outbox(':memory:');
  const metrics = new AgentMetrics();
  const cameras = { busy1: 100, busy2: 100, quiet: 5 };
  const pipeline = new FramePipeline({
    carId: 'car-fair',
    cameras: Object.keys(cameras).map((id) => ({ id, analyses: ['plates'], backPressure: false })),
    engine: slowEngine,
    outbox,
    logger: pino({ level: 'silent' }),
    metrics,
  });
  pipeline.start();

  const image = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
  const sent: Record<string, number> = {};
  const timers = Object.entries(cameras).map(([cameraId, fps]) => {
    sent[cameraId] = 0;
    return setInterval(() => pipeline.submit({ cameraId, index: sent[cameraId]!++, receivedAtMs: Date.now(), image }), 1000 / fps);
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  timers.forEach(clearInterval);
  await pipeline.stop();
  outbox.close();

  const stats = pipeline.stats().cameras;
  assert.ok(stats.quiet!.analysed >= sent.quiet! - 1, `the quiet camera keeps nearly all frames: ${stats.quiet!.analysed} of ${sent.quiet}`);
  assert.ok(Math.abs(stats.busy1!.analysed - stats.busy2!.analysed) <= 3, `busy cameras share evenly: ${stats.busy1!.analysed} and ${stats.busy2!.analysed}`);
  assert.ok(stats.busy1!.dropped > 0, 'the busy cameras lose frames');
  for (const [cameraId, camera] of Object.entries(stats)) {
    // Each frame is analysed, dropped for a newer one, or still waiting at stop (at most one per camera).
    const settled = camera.analysed + camera.dropped;
    assert.ok(sent[cameraId]! - settled <= 1, `${cameraId}: ${sent[cameraId]} sent, ${settled} analysed or dropped`);
  }
  const droppedMetric = (await metrics.framesDropped.get()).values.find((value) => value.labels.camera === 'busy1')?.value;
  assert.equal(droppedMetric, stats.busy1!.dropped, 'drops are counted in the metrics');
});
