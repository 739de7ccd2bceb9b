// Postprocessing for yunet_n_dynamic: per-stride decoding of the cls, obj, bbox and kps outputs into
// faces with five landmarks in source pixels, then NMS.
import { nms } from '../postprocess/nms.js';
import type { BoxXyxyPx, PointPx } from '../types.js';

export const YUNET_STRIDES_PX = [8, 16, 32] as const;

export interface FaceDetection {
  box: BoxXyxyPx;
  /** Right eye, left eye, nose tip, right and left mouth corners (the subject's right and left). */
  landmarks: PointPx[];
  score: number;
}

/** Outputs of one stride: cls [n], obj [n], bbox [n, 4], kps [n, 10]. */
export interface YunetStrideOutputs {
  stridePx: number;
  cls: Float32Array;
  obj: Float32Array;
  bbox: Float32Array;
  kps: Float32Array;
}

export interface YunetDecodeOptions {
  inputWidthPx: number;
  /** Model-input pixels per source pixel. */
  scale: number;
  scoreThreshold: number;
  iouThreshold: number;
}

export function decodeYunet(strides: readonly YunetStrideOutputs[], options: YunetDecodeOptions): FaceDetection[] {
  const candidates: FaceDetection[] = [];
  for (const outputs of strides) {
    const columns = Math.ceil(options.inputWidthPx / outputs.stridePx);
    for (let i = 0; i < outputs.cls.length; i++) {
      const score = Math.sqrt(clamp01(outputs.cls[i]!) * clamp01(outputs.obj[i]!));
      if (score < options.scoreThreshold) continue;
      candidates.push(decodeCell(outputs, i, i % columns, Math.floor(i / columns), score, options.scale));
    }
  }
  return nms(candidates, options.iouThreshold);
}

function decodeCell(
  outputs: YunetStrideOutputs,
  i: number,
  gx: number,
  gy: number,
  score: number,
  scale: number,
): FaceDetection {
  const s = outputs.stridePx;
  const centreX = (gx + outputs.bbox[i * 4]!) * s;
  const centreY = (gy + outputs.bbox[i * 4 + 1]!) * s;
  const width = Math.exp(outputs.bbox[i * 4 + 2]!) * s;
  const height = Math.exp(outputs.bbox[i * 4 + 3]!) * s;
  const box: BoxXyxyPx = [
    (centreX - width / 2) / scale,
    (centreY - height / 2) / scale,
    (centreX + width / 2) / scale,
    (centreY + height / 2) / scale,
  ];

  const landmarks: PointPx[] = [];
  for (let k = 0; k < 5; k++) {
    landmarks.push([((gx + outputs.kps[i * 10 + 2 * k]!) * s) / scale, ((gy + outputs.kps[i * 10 + 2 * k + 1]!) * s) / scale]);
  }
  return { box, landmarks, score };
}

function clamp01(value: number): number {
  return Math.min(Math.max(value, 0), 1);
}
