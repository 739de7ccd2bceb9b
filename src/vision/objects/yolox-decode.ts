// Postprocessing for yolox_nano: grid decoding of the [1, 3549, 85] output into boxes in source
// pixels, keeping only the COCO classes the product reports, then NMS per class.
import { nmsPerClass } from '../postprocess/nms.js';
import type { BoxXyxyPx } from '../types.js';

export type ObjectLabel = 'person' | 'bicycle' | 'car' | 'motorcycle' | 'bus' | 'truck';

export interface DetectedObject {
  label: ObjectLabel;
  box: BoxXyxyPx;
  score: number;
}

/** COCO class index of each reported label. */
const LABEL_BY_COCO_CLASS = new Map<number, ObjectLabel>([
  [0, 'person'],
  [1, 'bicycle'],
  [2, 'car'],
  [3, 'motorcycle'],
  [5, 'bus'],
  [7, 'truck'],
]);

const STRIDES_PX = [8, 16, 32] as const;
const ROW_LENGTH = 85;
const CLASS_COUNT = 80;

export interface YoloxDecodeOptions {
  inputSizePx: number;
  /** Model-input pixels per source pixel (the letterbox scale). */
  scale: number;
  sourceWidthPx: number;
  sourceHeightPx: number;
  scoreThreshold: number;
  iouThreshold: number;
}

/**
 * Decodes rows ordered by stride 8, 16, 32 and row-major within each grid. A row's class is the
 * argmax over all 80 COCO classes, and rows whose best class is not reported are dropped.
 */
export function decodeYolox(output: Float32Array, options: YoloxDecodeOptions): DetectedObject[] {
  const candidates: DetectedObject[] = [];
  let row = 0;
  for (const stridePx of STRIDES_PX) {
    const gridSize = options.inputSizePx / stridePx;
    for (let gy = 0; gy < gridSize; gy++) {
      for (let gx = 0; gx < gridSize; gx++, row++) {
        const candidate = decodeRow(output, row * ROW_LENGTH, gx, gy, stridePx, options);
        if (candidate) candidates.push(candidate);
      }
    }
  }
  return nmsPerClass(candidates, options.iouThreshold, (c) => c.label);
}

function decodeRow(
  output: Float32Array,
  base: number,
  gx: number,
  gy: number,
  stridePx: number,
  options: YoloxDecodeOptions,
): DetectedObject | null {
  const objectness = output[base + 4]!;
  if (objectness < options.scoreThreshold) return null;

  let bestClass = 0;
  let bestClassScore = -1;
  for (let c = 0; c < CLASS_COUNT; c++) {
    const classScore = output[base + 5 + c]!;
    if (classScore > bestClassScore) {
      bestClassScore = classScore;
      bestClass = c;
    }
  }
  const label = LABEL_BY_COCO_CLASS.get(bestClass);
  const score = objectness * bestClassScore;
  if (!label || score < options.scoreThreshold) return null;

  const centreX = (output[base]! + gx) * stridePx;
  const centreY = (output[base + 1]! + gy) * stridePx;
  const halfWidth = (Math.exp(output[base + 2]!) * stridePx) / 2;
  const halfHeight = (Math.exp(output[base + 3]!) * stridePx) / 2;
  const box: BoxXyxyPx = [
    clamp((centreX - halfWidth) / options.scale, options.sourceWidthPx),
    clamp((centreY - halfHeight) / options.scale, options.sourceHeightPx),
    clamp((centreX + halfWidth) / options.scale, options.sourceWidthPx),
    clamp((centreY + halfHeight) / options.scale, options.sourceHeightPx),
  ];
  return { label, box, score };
}

function clamp(value: number, maxValue: number): number {
  return Math.min(Math.max(value, 0), maxValue);
}
