// The hit hook on a real drive-by clip: a plate the car matches goes out at once as one hit event,
// ahead of the track's sighting, and both carry the match so the outbox keeps them as hits. A hook
// that fails is counted and costs no sighting.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { ReplaySource } from '../agent/capture/replay-source.js';
import type { InferenceEngine } from '../agent/inference/engine.js';
import { WorkerEngine } from '../agent/inference/worker-engine.js';
import { AgentMetrics } from '../agent/metrics.js';
import type { CommittedEvent } from '../agent/pipeline/camera-events.js';
import { FramePipeline } from '../agent/pipeline/frame-pipeline.js';
import type { CandidateRead, HitHook } from '../agent/pipeline/hit-hook.js';
import { Outbox } from '../agent/uplink/outbox.js';
import { parseEvent, type PatrolEvent } from '../src/protocol/event.js';
import { makeDriveByClip } from '../src/video/clips.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const logger = pino({ level: 'silent' });

async function runClip(engine: InferenceEngine, clip: string, hitHook: HitHook) {
  const outbox = new Outbox(':memory:');
  const committed: CommittedEvent[] = [];
  const pipeline = new FramePipeline({
    carId: 'car-hits',
    cameras: [{ id: 'front', analyses: ['plates'], backPressure: true }],
    engine,
    outbox,
    logger,
    metrics: new AgentMetrics(),
    hitHook,
    onCommitted: (event) => committed.push(event),
  });
  pipeline.start();
  await new Promise<void>((resolve) => {
    const source = new ReplaySource({
      camera: { id: 'front', source: clip, realtime: false, loop: false, sourceFps: 25, analysisFps: 5, width: 960, height: 540, ffmpegInputArgs: [] },
      onFrame: (frame) => pipeline.offer(frame),
      onEnd: () => void pipeline.endCamera('front').then(() => resolve()),
      logger,
    });
    source.start();
  });
  await pipeline.stop();
  const events: PatrolEvent[] = outbox.peek(0, 100).map((row) => {
    const parsed = parseEvent(row.payload, 'car-hits');
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.message);
    return parsed.event;
  });
  outbox.close();
  return { events, committed, stats: pipeline.stats() };
}

async function setUp(t: TestContext): Promise<{ engine: WorkerEngine; clip: string } | null> {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-hits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clip = path.join(dir, 'drive-by.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'double_yellow.jpg'), clip, { seconds: 2, width: 960, height: 540, fps: 25 });
  const engine = await WorkerEngine.start({ modelsDir: models, workers: 1, threads: 1, logger });
  t.after(() => engine.close());
  return { engine, clip };
}

test('hit hook – match sent at once, once', { timeout: 120_000 }, async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const reads: CandidateRead[] = [];
  const hook: HitHook = {
    onCandidate(read) {
      reads.push(read);
      return read.kind === 'plate' && read.plate.text === '京EA5331' ? { matchKey: 'plate:京EA5331', score: 1, listVersion: 7 } : null;
    },
  };
  const { events, committed, stats } = await runClip(setup.engine, setup.clip, hook);

  assert.ok(reads.length >= 5, `the hook sees the plate in most frames, got ${reads.length}`);
  assert.ok(reads.every((read) => read.trackId === reads[0]!.trackId), 'every read belongs to the one vehicle track');
  assert.deepEqual(committed.map((event) => [event.role, event.state, event.hit]), [['hit', 'open', true], ['sighting', 'closed', true]]);
  assert.equal(stats.cameras.front!.hits, 1);

  const [hit, sighting] = events;
  assert.ok(hit?.kind === 'plate' && sighting?.kind === 'plate');
  assert.ok(hit.seq < sighting.seq, 'the hit is committed before the sighting');
  assert.deepEqual(hit.carMatch, { matchKey: 'plate:京EA5331', score: 1, listVersion: 7 });
  assert.deepEqual(sighting.carMatch, hit.carMatch);
  assert.equal(hit.sighting?.state, 'open');
  assert.equal(hit.sighting?.reads, 1, 'the hit goes out on the first read');
  assert.equal(hit.sighting?.trackId, sighting.sighting?.trackId);
  assert.ok(hit.evidence.length === 2, 'the hit carries its own evidence');
  assert.ok(committed[0]!.committedAtMs - committed[0]!.frameReceivedAtMs < 10_000, 'the hit is committed within seconds of its frame');
});

test('hit hook – failure still sends sighting', { timeout: 120_000 }, async (t) => {
  const setup = await setUp(t);
  if (!setup) return;
  const hook: HitHook = {
    onCandidate() {
      throw new Error('hotlist not loaded');
    },
  };
  const { events, stats } = await runClip(setup.engine, setup.clip, hook);

  assert.ok(stats.errors['hit-hook'] >= 5, `each failed check is counted, got ${stats.errors['hit-hook']}`);
  // Without a working hook the track goes out as a plain sighting: an early open report and the closing one.
  assert.deepEqual(events.map((event) => (event.kind === 'objects' ? null : event.sighting?.state)), ['open', 'closed']);
  for (const event of events) {
    assert.equal(event.kind, 'plate');
    assert.equal(event.carMatch, undefined);
  }
  assert.equal(stats.cameras.front!.hits, 0);
});
