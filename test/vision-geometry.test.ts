// Unit tests of the image geometry under the models: resizing, letterboxing, homography and
// similarity estimation, warping, NMS, double-row merging and CTC decoding, on synthetic inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../src/vision/image.js';
import { letterbox, unletterboxPoint } from '../src/vision/preprocess/letterbox.js';
import { resizeBilinear } from '../src/vision/preprocess/resize.js';
import { toChwF32 } from '../src/vision/preprocess/tensor.js';
import { applyMat3, estimateSimilarity, invertMat3, solveHomography } from '../src/vision/preprocess/transforms.js';
import { warpPerspective } from '../src/vision/preprocess/warp.js';
import { iouXyxy, nms, nmsPerClass } from '../src/vision/postprocess/nms.js';
import { mergeDoubleRowPlate } from '../src/vision/plates/rectify.js';
import { decodeCtcGreedy, PLATE_CHARSET } from '../src/vision/plates/plate-read-decode.js';
import type { PointPx } from '../src/vision/types.js';

function solidImage(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
}

function pixel(image: RgbImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return Array.from(image.data.subarray(i, i + 3));
}

function assertClose(actual: number, expected: number, tolerance: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: expected ${expected} ± ${tolerance}, got ${actual}`);
}

test('resizeBilinear – keeps gradient ends and order', () => {
  const image = solidImage(4, 1, [0, 0, 0]);
  [0, 85, 170, 255].forEach((value, x) => image.data.fill(value, x * 3, x * 3 + 3));
  const resized = resizeBilinear(image, 8, 1);
  const reds = Array.from({ length: 8 }, (_, x) => pixel(resized, x, 0)[0]!);
  assert.equal(reds[0], 0);
  assert.equal(reds[7], 255);
  for (let x = 1; x < 8; x++) assert.ok(reds[x]! >= reds[x - 1]!, `not monotonic at ${x}: ${reds.join(',')}`);
});

test('letterbox – pads and maps points back', () => {
  const image = solidImage(200, 100, [10, 20, 30]);
  const topLeft = letterbox(image, 100, 100, 'top-left', 114);
  assert.equal(topLeft.scale, 0.5);
  assert.deepEqual([topLeft.offsetXPx, topLeft.offsetYPx], [0, 0]);
  assert.deepEqual(pixel(topLeft.image, 10, 10), [10, 20, 30]);
  assert.deepEqual(pixel(topLeft.image, 10, 60), [114, 114, 114]);

  const centred = letterbox(image, 100, 100, 'centre', 114);
  assert.deepEqual([centred.offsetXPx, centred.offsetYPx], [0, 25]);
  assert.deepEqual(pixel(centred.image, 50, 10), [114, 114, 114]);
  assert.deepEqual(pixel(centred.image, 50, 50), [10, 20, 30]);
  assert.deepEqual(unletterboxPoint(centred, 50, 50), [100, 50]);
});

test('toChwF32 – BGR planes and normalisation', () => {
  const image = solidImage(2, 1, [10, 20, 30]);
  const bgr = toChwF32(image, { channelOrder: 'bgr', mean: 0, std: 1 });
  assert.deepEqual(Array.from(bgr), [30, 30, 20, 20, 10, 10]);
  const rgb = toChwF32(image, { channelOrder: 'rgb', mean: 10, std: 10 });
  assert.deepEqual(Array.from(rgb), [0, 0, 1, 1, 2, 2]);
});

test('solveHomography – maps the four corners exactly', () => {
  const from: PointPx[] = [[0, 0], [99, 0], [99, 29], [0, 29]];
  const to: PointPx[] = [[12, 40], [130, 52], [128, 90], [8, 75]];
  const homography = solveHomography(from, to);
  assert.ok(homography);
  from.forEach((point, k) => {
    const [x, y] = applyMat3(homography, point[0], point[1]);
    assertClose(x, to[k]![0], 1e-6, `corner ${k} x`);
    assertClose(y, to[k]![1], 1e-6, `corner ${k} y`);
  });
  assert.equal(solveHomography(from, [[0, 0], [1, 1], [2, 2], [3, 3]]), null);
});

test('estimateSimilarity – recovers a known rotation, scale and shift', () => {
  const angle = 0.3;
  const scale = 1.7;
  const from: PointPx[] = [[10, 10], [50, 12], [30, 40], [15, 60], [45, 58]];
  const to = from.map(([x, y]): PointPx => [
    scale * (Math.cos(angle) * x - Math.sin(angle) * y) + 5,
    scale * (Math.sin(angle) * x + Math.cos(angle) * y) - 7,
  ]);
  const similarity = estimateSimilarity(from, to);
  assertClose(similarity[0], scale * Math.cos(angle), 1e-9, 'a');
  assertClose(similarity[3], scale * Math.sin(angle), 1e-9, 'b');
  assertClose(similarity[2], 5, 1e-9, 'tx');
  assertClose(similarity[5], -7, 1e-9, 'ty');
  const inverse = invertMat3(similarity);
  assert.ok(inverse);
  const [x, y] = applyMat3(inverse, to[2]![0], to[2]![1]);
  assertClose(x, 30, 1e-9, 'inverse x');
  assertClose(y, 40, 1e-9, 'inverse y');
});

test('warpPerspective – rectifies a tilted quadrilateral', () => {
  // A white quadrilateral on black, so warping it onto a 40x10 rectangle gives an all-white image.
  const image = solidImage(100, 60, [0, 0, 0]);
  const corners: PointPx[] = [[20, 10], [80, 20], [78, 45], [18, 35]];
  const rectangle: PointPx[] = [[0, 0], [39, 0], [39, 9], [0, 9]];
  const rectangleToImage = solveHomography(rectangle, corners)!;
  const imageToRectangle = invertMat3(rectangleToImage)!;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const [u, v] = applyMat3(imageToRectangle, x, y);
      if (u >= -1 && u <= 40 && v >= -1 && v <= 10) image.data.fill(255, (y * 100 + x) * 3, (y * 100 + x) * 3 + 3);
    }
  }
  const rectified = warpPerspective(image, rectangleToImage, 40, 10);
  const minimum = Math.min(...rectified.data);
  assert.ok(minimum >= 250, `every rectified pixel should be white, darkest is ${minimum}`);
  const outside = warpPerspective(image, [1, 0, 1000, 0, 1, 1000, 0, 0, 1], 4, 4, 7);
  assert.deepEqual(pixel(outside, 0, 0), [7, 7, 7]);
});

test('nms – drops overlapping boxes and keeps separate ones', () => {
  assertClose(iouXyxy([0, 0, 10, 10], [5, 0, 15, 10]), 1 / 3, 1e-9, 'iou');
  assert.equal(iouXyxy([0, 0, 10, 10], [20, 20, 30, 30]), 0);
  const items = [
    { box: [0, 0, 10, 10] as [number, number, number, number], score: 0.6, label: 'car' },
    { box: [1, 0, 11, 10] as [number, number, number, number], score: 0.9, label: 'car' },
    { box: [1, 0, 11, 10] as [number, number, number, number], score: 0.8, label: 'truck' },
    { box: [50, 50, 60, 60] as [number, number, number, number], score: 0.5, label: 'car' },
  ];
  assert.deepEqual(nms(items, 0.5).map((i) => i.score), [0.9, 0.5]);
  assert.deepEqual(nmsPerClass(items, 0.5, (i) => i.label).map((i) => i.score), [0.9, 0.8, 0.5]);
});

test('mergeDoubleRowPlate – top row goes left', () => {
  // 12 rows: rows 0-4 red (top 5/12), rows 5-11 blue. The lower part starts at row 4.
  const plate = solidImage(10, 12, [0, 0, 255]);
  for (let y = 0; y < 12; y++) {
    for (let x = 0; x < 10; x++) plate.data.set(y < 5 ? [255, 0, 0] : [0, 0, 255], (y * 10 + x) * 3);
  }
  const merged = mergeDoubleRowPlate(plate);
  assert.deepEqual([merged.width, merged.height], [20, 8]);
  assert.deepEqual(pixel(merged, 3, 4), [255, 0, 0]);
  assert.deepEqual(pixel(merged, 15, 7), [0, 0, 255]);
});

test('decodeCtcGreedy – collapses repeats and drops blanks', () => {
  assert.equal(PLATE_CHARSET.length, 78);
  const classes = PLATE_CHARSET.length;
  const sequence = ['京', '京', '#', 'A', '#', '1', '1', '#', '1'];
  const logits = new Float32Array(sequence.length * classes);
  sequence.forEach((char, step) => {
    logits[step * classes + PLATE_CHARSET.indexOf(char)] = 10;
  });
  const decoded = decodeCtcGreedy(logits, 0, sequence.length, classes);
  assert.equal(decoded.text, '京A11');
  assert.equal(decoded.charProbabilities.length, 4);
  for (const probability of decoded.charProbabilities) assert.ok(probability > 0.99 && probability <= 1);
});
