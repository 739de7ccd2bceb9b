// The choice of where to look for faces in one frame: the head areas of detected people or the whole
// frame, whichever the measured cost model rates cheaper. Running the detector is frame-analyser.ts's job.
import type { RgbImage } from '../../src/vision/image.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';
import { YUNET_MAX_SIDE_PX } from '../../src/vision/faces/yunet-input.js';

/** Run time of the face detector as a linear function of its input size. */
export interface FaceDetectorCost {
  /** Time of one run whatever its size, ms: session call, decoding, tensor allocation. */
  fixedMs: number;
  /** Extra time per million input pixels, ms. */
  msPerMegapixel: number;
}

export type FaceSearch = { mode: 'whole' } | { mode: 'regions'; regions: BoxXyxyPx[] };

/**
 * Cost of yunet_n_dynamic measured with measureFaceDetectorCost's method (fastest of 15 runs at
 * sizes from 64x64 to 640x384) under onnxruntime-node 1.31 with one thread, on a 2-core x86-64
 * virtual machine. Only the ratio of the two parts steers the choice, and both parts scale alike
 * with CPU speed. The constants are fixed, not measured at start, so that the same frames always
 * get the same search and a replay gives the same events.
 */
export const DEFAULT_FACE_DETECTOR_COST: FaceDetectorCost = { fixedMs: 0.15, msPerMegapixel: 23 };

/** Share of a person box, from its top, that is searched for the face; covers half-body and full-body views. */
const HEAD_HEIGHT_SHARE = 0.6;
/** Margin added on each side of the head area, as a share of the person box width and height. */
const HEAD_MARGIN_SHARE = 0.1;
/** Smallest region side, px; YuNet's input is padded to multiples of 32 anyway. */
const MIN_REGION_SIDE_PX = 32;
const YUNET_SIZE_MULTIPLE_PX = 32;

/** Returns the area of `person` that contains the head, clamped to the image, in image pixels. */
export function headRegion(person: BoxXyxyPx, widthPx: number, heightPx: number): BoxXyxyPx {
  const boxWidth = person[2] - person[0];
  const boxHeight = person[3] - person[1];
  const marginX = boxWidth * HEAD_MARGIN_SHARE;
  const marginY = boxHeight * HEAD_MARGIN_SHARE;
  const x1 = clamp(Math.floor(person[0] - marginX), 0, widthPx - 1);
  const y1 = clamp(Math.floor(person[1] - marginY), 0, heightPx - 1);
  const x2 = clamp(Math.ceil(person[2] + marginX), Math.min(x1 + MIN_REGION_SIDE_PX, widthPx), widthPx);
  const y2 = clamp(Math.ceil(person[1] + boxHeight * HEAD_HEIGHT_SHARE + marginY), Math.min(y1 + MIN_REGION_SIDE_PX, heightPx), heightPx);
  return [x1, y1, x2, y2];
}

/** Returns the pixel count of the detector input for an image of this size (scaled to 640, padded to 32). */
export function faceInputPixels(widthPx: number, heightPx: number): number {
  const scale = Math.min(1, YUNET_MAX_SIDE_PX / Math.max(widthPx, heightPx));
  const inputWidth = Math.ceil(Math.max(1, Math.round(widthPx * scale)) / YUNET_SIZE_MULTIPLE_PX) * YUNET_SIZE_MULTIPLE_PX;
  const inputHeight = Math.ceil(Math.max(1, Math.round(heightPx * scale)) / YUNET_SIZE_MULTIPLE_PX) * YUNET_SIZE_MULTIPLE_PX;
  return inputWidth * inputHeight;
}

export function estimateFaceDetectMs(cost: FaceDetectorCost, widthPx: number, heightPx: number): number {
  return cost.fixedMs + (cost.msPerMegapixel * faceInputPixels(widthPx, heightPx)) / 1e6;
}

/**
 * Chooses between one detector run on the whole image and one run per person's head area, by the
 * estimated time of each. Head areas that overlap are searched separately, and the caller merges
 * the faces found twice.
 */
export function chooseFaceSearch(image: Pick<RgbImage, 'width' | 'height'>, people: readonly BoxXyxyPx[], cost: FaceDetectorCost): FaceSearch {
  if (people.length === 0) return { mode: 'whole' };
  const regions = people.map((person) => headRegion(person, image.width, image.height));
  const wholeMs = estimateFaceDetectMs(cost, image.width, image.height);
  const regionsMs = regions.reduce((sum, [x1, y1, x2, y2]) => sum + estimateFaceDetectMs(cost, x2 - x1, y2 - y1), 0);
  return regionsMs < wholeMs ? { mode: 'regions', regions } : { mode: 'whole' };
}

/**
 * Fits the cost model from timed runs at two input sizes. The fixed part is never negative, so a
 * noisy small-size sample cannot make many small regions look free.
 */
export function fitFaceDetectorCost(small: { pixels: number; ms: number }, large: { pixels: number; ms: number }): FaceDetectorCost {
  const msPerMegapixel = Math.max(0, ((large.ms - small.ms) * 1e6) / (large.pixels - small.pixels));
  const fixedMs = Math.max(0, small.ms - (msPerMegapixel * small.pixels) / 1e6);
  return { fixedMs, msPerMegapixel };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
