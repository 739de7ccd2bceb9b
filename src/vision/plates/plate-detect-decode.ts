// Postprocessing for plate_detect. Its [1, 25200, 15] output is already decoded in model-input
// pixels: cx, cy, w, h, objectness, four corners (TL, TR, BR, BL), single-row and double-row scores.
import type { Letterboxed } from '../preprocess/letterbox.js';
import { unletterboxPoint } from '../preprocess/letterbox.js';
import { nms } from '../postprocess/nms.js';
import type { BoxXyxyPx, PointPx } from '../types.js';

export type PlateCorners = [PointPx, PointPx, PointPx, PointPx];

export interface PlateDetection {
  box: BoxXyxyPx;
  /** Top-left, top-right, bottom-right, bottom-left, in source pixels. */
  corners: PlateCorners;
  /** Objectness x the larger of the single-row and double-row scores. */
  score: number;
  rows: 1 | 2;
}

const ROW_LENGTH = 15;

export interface PlateDecodeOptions {
  letterboxed: Letterboxed;
  sourceWidthPx: number;
  sourceHeightPx: number;
  objectnessThreshold: number;
  iouThreshold: number;
}

/** Keeps rows with objectness above the threshold, maps them to source pixels and applies NMS. */
export function decodePlateDetections(output: Float32Array, options: PlateDecodeOptions): PlateDetection[] {
  const candidates: PlateDetection[] = [];
  for (let base = 0; base + ROW_LENGTH <= output.length; base += ROW_LENGTH) {
    const objectness = output[base + 4]!;
    if (objectness <= options.objectnessThreshold) continue;
    candidates.push(decodeRow(output, base, objectness, options));
  }
  return nms(candidates, options.iouThreshold);
}

function decodeRow(output: Float32Array, base: number, objectness: number, options: PlateDecodeOptions): PlateDetection {
  const clampPoint = (xPx: number, yPx: number): PointPx => {
    const [x, y] = unletterboxPoint(options.letterboxed, xPx, yPx);
    return [Math.min(Math.max(x, 0), options.sourceWidthPx), Math.min(Math.max(y, 0), options.sourceHeightPx)];
  };

  const centreX = output[base]!;
  const centreY = output[base + 1]!;
  const halfWidth = output[base + 2]! / 2;
  const halfHeight = output[base + 3]! / 2;
  const topLeft = clampPoint(centreX - halfWidth, centreY - halfHeight);
  const bottomRight = clampPoint(centreX + halfWidth, centreY + halfHeight);

  const corners: PlateCorners = [
    clampPoint(output[base + 5]!, output[base + 6]!),
    clampPoint(output[base + 7]!, output[base + 8]!),
    clampPoint(output[base + 9]!, output[base + 10]!),
    clampPoint(output[base + 11]!, output[base + 12]!),
  ];
  const singleRowScore = output[base + 13]!;
  const doubleRowScore = output[base + 14]!;
  return {
    box: [topLeft[0], topLeft[1], bottomRight[0], bottomRight[1]],
    corners,
    score: objectness * Math.max(singleRowScore, doubleRowScore),
    rows: doubleRowScore > singleRowScore ? 2 : 1,
  };
}
