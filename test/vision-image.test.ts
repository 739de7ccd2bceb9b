// Image decoding and evidence encoding through sharp: EXIF orientation, cropping, size limits and
// the typed errors for missing or undecodable files.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { VisionError } from '../src/vision/errors.js';
import { cropImage, decodeImageBuffer, decodeImageFile, encodeJpeg, type RgbImage } from '../src/vision/image.js';

function leftRedRightBlue(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  }
  return { width, height, data };
}

test('decodeImageBuffer – applies EXIF orientation', async () => {
  const source = leftRedRightBlue(64, 32);
  const rotatedJpeg = await sharp(source.data, { raw: { width: 64, height: 32, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const decoded = await decodeImageBuffer(rotatedJpeg);
  assert.deepEqual([decoded.width, decoded.height], [32, 64]);
  assert.equal(decoded.data.length, 32 * 64 * 3);
  // Orientation 6 turns the image 90 degrees clockwise, so the red left half ends up on top.
  const top = decoded.data.subarray((5 * 32 + 16) * 3, (5 * 32 + 16) * 3 + 3);
  assert.ok(top[0]! > 200, `top pixel should be red, got ${Array.from(top).join(',')}`);
  assert.ok(top[2]! < 60, `top pixel should be red, got ${Array.from(top).join(',')}`);
});

test('decodeImageBuffer – converts grey and alpha to RGB', async () => {
  const greyPng = await sharp(Buffer.alloc(10 * 5, 77), { raw: { width: 10, height: 5, channels: 1 } }).png().toBuffer();
  const grey = await decodeImageBuffer(greyPng);
  assert.deepEqual([grey.width, grey.height, grey.data.length], [10, 5, 150]);
  assert.deepEqual(Array.from(grey.data.subarray(0, 3)), [77, 77, 77]);
  const rgbaPng = await sharp(Buffer.alloc(4 * 4 * 4, 200), { raw: { width: 4, height: 4, channels: 4 } }).png().toBuffer();
  assert.equal((await decodeImageBuffer(rgbaPng)).data.length, 4 * 4 * 3);
});

test('decodeImageFile – typed errors for missing and invalid files', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vision-image-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'missing.jpg');
  await assert.rejects(decodeImageFile(missing), (e: unknown) => e instanceof VisionError && e.code === 'FILE_NOT_FOUND');
  const text = path.join(dir, 'notes.jpg');
  await writeFile(text, 'not an image');
  await assert.rejects(decodeImageFile(text), (e: unknown) => e instanceof VisionError && e.code === 'IMAGE_INVALID');
});

test('encodeJpeg – crops and limits the longer side', async () => {
  const image = leftRedRightBlue(400, 200);
  const whole = await decodeImageBuffer(await encodeJpeg(image, undefined, 100));
  assert.deepEqual([whole.width, whole.height], [100, 50]);

  const crop = await decodeImageBuffer(await encodeJpeg(image, [210, 20, 290, 60], 1000, 90));
  assert.deepEqual([crop.width, crop.height], [80, 40]);
  assert.ok(crop.data[2]! > 200, 'the crop lies in the blue half, so blue should be high');
  assert.ok(crop.data[0]! < 60, 'the crop lies in the blue half, so red should be low');

  const clamped = cropImage(image, [-50, -10, 30, 500]);
  assert.deepEqual([clamped.width, clamped.height], [30, 200]);
});
