// A folder of real clips replayed as fast as possible through the real models in worker threads:
// no frame is dropped, each vehicle and person gives one valid sighting, and two runs over the
// same input commit the same events.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { ReplaySource } from '../agent/capture/replay-source.js';
import { WorkerEngine } from '../agent/inference/worker-engine.js';
import { AgentMetrics } from '../agent/metrics.js';
import { FramePipeline } from '../agent/pipeline/frame-pipeline.js';
import { Outbox } from '../agent/uplink/outbox.js';
import { MAX_EVENT_BYTES, parseEvent, type PatrolEvent } from '../src/protocol/event.js';
import { makeDriveByClip, transcodeClip } from '../src/video/clips.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const logger = pino({ level: 'silent' });
const EPOCH_MS = 1_750_000_000_000;
const ANALYSIS_FPS = 5;
const CLIP_SECONDS = 3;

interface ReplayRun {
  events: PatrolEvent[];
  framesDelivered: number;
  stats: ReturnType<FramePipeline['stats']>;
}

async function replayOnce(engine: WorkerEngine, folder: string): Promise<ReplayRun> {
  const outbox = new Outbox(':memory:');
  const pipeline = new FramePipeline({
    carId: 'car-replay',
    cameras: [{ id: 'replay', analyses: ['plates', 'faces'], backPressure: true }],
    engine,
    outbox,
    logger,
    metrics: new AgentMetrics(),
    trackIdPrefix: 'r',
  });
  pipeline.start();
  let framesDelivered = 0;
  await new Promise<void>((resolve) => {
    const source = new ReplaySource({
      camera: { id: 'replay', source: folder, realtime: false, loop: false, sourceFps: 25, analysisFps: ANALYSIS_FPS, width: 960, height: 540, ffmpegInputArgs: [] },
      onFrame: (frame) => {
        framesDelivered += 1;
        return pipeline.offer(frame);
      },
      onEnd: () => void pipeline.endCamera('replay').then(() => resolve()),
      logger,
      epochMs: EPOCH_MS,
    });
    source.start();
  });
  await pipeline.stop();

  const events = outbox.peek(0, 1000).map((row) => {
    const parsed = parseEvent(row.payload, 'car-replay');
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.message);
    assert.ok(row.payload.length <= MAX_EVENT_BYTES);
    const evidenceChars = parsed.event.evidence.reduce((sum, item) => sum + item.jpegBase64.length, 0);
    assert.ok(row.payload.length - evidenceChars < 8 * 1024, `fields besides the images take ${row.payload.length - evidenceChars} bytes`);
    return parsed.event;
  });
  outbox.close();
  return { events, framesDelivered, stats: pipeline.stats() };
}

/** Drops the fields that carry wall-clock times of this run: when the frame was read, analysed and committed. */
function withoutRunTimes(event: PatrolEvent): Record<string, unknown> {
  const { frameReceivedAtMs, analysedAtMs, committedAtMs, stages, ...rest } = event;
  return rest;
}

test('replay – fast replay is repeatable and complete', { timeout: 180_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-replay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = path.join(dir, 'clips');
  mkdirSync(folder);
  // Names sort as 1 before 10, so the drive-by plays first and the speakers second.
  await makeDriveByClip(path.join(fixtures, 'plates', 'double_yellow.jpg'), path.join(folder, 'clip1.h264'), { seconds: CLIP_SECONDS, width: 960, height: 540, fps: 25 });
  await transcodeClip(path.join(fixtures, 'video', 'stage-two-speakers.mp4'), path.join(folder, 'clip10.h264'), { seconds: CLIP_SECONDS, fps: 25 });

  const engine = await WorkerEngine.start({ modelsDir: models, workers: 2, threads: 1, logger });
  t.after(() => engine.close());
  const first = await replayOnce(engine, folder);
  const second = await replayOnce(engine, folder);

  const expectedFrames = 2 * CLIP_SECONDS * ANALYSIS_FPS;
  assert.equal(first.framesDelivered, expectedFrames, 'ffmpeg selects 5 frames a second from each 25 fps clip');
  assert.equal(first.stats.cameras.replay!.analysed, expectedFrames, 'every delivered frame is analysed');
  assert.equal(first.stats.cameras.replay!.dropped, 0);
  assert.equal(first.stats.cameras.replay!.failed, 0);

  const plates = first.events.filter((event) => event.kind === 'plate');
  const closedPlates = plates.filter((event) => event.sighting?.state === 'closed');
  assert.equal(closedPlates.length, 1, 'the one vehicle gives one closing plate sighting');
  const plate = closedPlates[0]!;
  const early = plates[0]!;
  assert.equal(early.sighting?.state, 'open', 'the vehicle is reported while still in view, before its track ends');
  assert.equal(early.sighting?.trackId, plate.sighting?.trackId);
  assert.ok(early.sighting!.reads < plate.sighting!.reads, 'the early report comes from the first reads');
  assert.ok(plate.kind === 'plate');
  assert.equal(plate.plate.text, '京EA5331');
  assert.equal(plate.sighting?.state, 'closed');
  assert.ok(plate.sighting!.reads >= 10, `the plate is read in most frames, got ${plate.sighting!.reads}`);
  assert.equal(plate.sighting!.firstSeenAtMs, EPOCH_MS, 'frame time starts at the replay epoch');
  assert.deepEqual(plate.evidence.map((item) => item.kind), ['plate-crop', 'context']);

  const faces = first.events.filter((event) => event.kind === 'face');
  assert.ok(faces.length >= 1, 'the speakers give face sightings');
  for (const face of faces) {
    assert.ok(face.sighting!.firstSeenAtMs >= EPOCH_MS + 60_000, 'the second file starts after the gap between files');
  }

  assert.deepEqual(second.events.map(withoutRunTimes), first.events.map(withoutRunTimes), 'both runs commit the same events');
});
