// Evidence JPEGs stay within their pixel and byte caps, lowering quality and size as needed, so an
// event with both images always fits the event schema and one MQTT message.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { EVIDENCE_LIMITS, EvidenceError, encodeCappedJpeg, encodeEvidence } from '../agent/pipeline/evidence.js';
import { MAX_EVENT_BYTES } from '../src/protocol/event.js';
import { decodeImageFile, type RgbImage } from '../src/vision/image.js';
import { fixturesDir } from './support/assets.js';

/** Returns random pixels, which JPEG compresses worst. */
function noise(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    data[i] = state & 0xff;
  }
  return { width, height, data };
}

test('evidence – noise fits byte cap', async () => {
  const jpeg = await encodeCappedJpeg(noise(1280, 720), 640, 20 * 1024);
  assert.ok(jpeg.length <= 20 * 1024, `JPEG of ${jpeg.length} bytes should fit 20 KiB`);
  const meta = await sharp(jpeg).metadata();
  assert.ok(Math.max(meta.width!, meta.height!) <= 640, `longer side ${Math.max(meta.width!, meta.height!)} should be at most 640 px`);
});

test('evidence – impossible cap raises', async () => {
  await assert.rejects(encodeCappedJpeg(noise(256, 256), 256, 100), (error: Error) => error instanceof EvidenceError && /100 bytes/.test(error.message));
});

test('evidence – context crop of a photo', async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  const photo = await decodeImageFile(path.join(fixtures, 'plates', 'double_yellow.jpg'));
  const evidence = await encodeEvidence(photo, [0, 0, photo.width, photo.height], 'context');
  const jpeg = Buffer.from(evidence.jpegBase64, 'base64');

  assert.equal(evidence.kind, 'context');
  assert.ok(jpeg.length <= EVIDENCE_LIMITS.context.maxBytes);
  const meta = await sharp(jpeg).metadata();
  assert.equal(Math.max(meta.width!, meta.height!), Math.min(EVIDENCE_LIMITS.context.maxSidePx, Math.max(photo.width, photo.height)));
});

test('evidence – caps fit one event', () => {
  const base64Bytes = (bytes: number) => Math.ceil(bytes / 3) * 4;
  const largestPair = Math.max(
    base64Bytes(EVIDENCE_LIMITS['plate-crop'].maxBytes) + base64Bytes(EVIDENCE_LIMITS.context.maxBytes),
    base64Bytes(EVIDENCE_LIMITS['face-crop'].maxBytes) + base64Bytes(EVIDENCE_LIMITS.context.maxBytes),
  );
  // A face event's other fields (128 embedding values, landmarks, sighting) stay under 8 KiB.
  assert.ok(largestPair + 8 * 1024 < MAX_EVENT_BYTES, `two images take ${largestPair} bytes of ${MAX_EVENT_BYTES}`);
  for (const limits of Object.values(EVIDENCE_LIMITS)) assert.ok(base64Bytes(limits.maxBytes) <= 96 * 1024, 'each image fits the schema limit of 96 KiB of base64');
});
