// Events built from a real analysis of real photos must pass the central service's validation.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { commitFrameEvents } from '../agent/pipeline/events.js';
import { Outbox } from '../agent/uplink/outbox.js';
import { parseEvent, type PatrolEvent } from '../src/protocol/event.js';
import { Cascade } from '../src/vision/cascade.js';
import { decodeImageFile } from '../src/vision/image.js';
import { fixturesDir, modelsDir } from './support/assets.js';

async function eventsForPhoto(cascade: Cascade, photo: string): Promise<PatrolEvent[]> {
  const image = await decodeImageFile(photo);
  const startedAtMs = Date.now();
  const analysis = await cascade.analyze(image, { objects: true, plates: true, faces: true, embed: true });
  const outbox = new Outbox(':memory:');
  await commitFrameEvents(
    { carId: 'car-7', cameraId: 'front', image, receivedAtMs: startedAtMs - 5, inferenceStartedAtMs: startedAtMs, analysedAtMs: Date.now(), clockOffsetMs: null, analysis },
    outbox,
  );
  const events = outbox.peek(0, 100).map((row) => {
    const parsed = parseEvent(row.payload, 'car-7');
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.message);
    return parsed.event;
  });
  outbox.close();
  return events;
}

test('frame events – plate photo gives valid plate event', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const cascade = await Cascade.load(models);

  const events = await eventsForPhoto(cascade, path.join(fixtures, 'plates', 'double_yellow.jpg'));
  const plates = events.filter((event) => event.kind === 'plate');
  assert.equal(plates.length, 1);
  const plate = plates[0]!;
  assert.equal(plate.kind === 'plate' && plate.plate.text, '京EA5331');
  assert.equal(plate.kind === 'plate' && plate.plate.rows, 2);
  assert.equal(plate.evidence[0]?.kind, 'plate-crop');
  assert.ok(Buffer.from(plate.evidence[0]!.jpegBase64, 'base64').subarray(0, 2).equals(Buffer.from([0xff, 0xd8])), 'evidence should be a JPEG');
  assert.deepEqual(events.map((event) => event.seq), events.map((_, i) => i + 1));
  assert.equal(plate.stages.queueMs, 5);
  await cascade.close();
});

test('frame events – face photo gives valid face event', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const cascade = await Cascade.load(models);

  const events = await eventsForPhoto(cascade, path.join(fixtures, 'faces', 'subject-a-enrol.png'));
  const faces = events.filter((event) => event.kind === 'face');
  assert.equal(faces.length, 1);
  const face = faces[0]!;
  assert.ok(face.kind === 'face');
  const norm = Math.hypot(...face.face.embedding);
  assert.ok(Math.abs(norm - 1) < 1e-3, `embedding should be L2-normalised, norm ${norm}`);
  assert.equal(face.evidence[0]?.kind, 'face-crop');
  await cascade.close();
});
