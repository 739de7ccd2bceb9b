// Preprocessing for yunet_n_dynamic: shrink so the longer side is at most 640 px, pad right and
// bottom to multiples of 32 (other sizes crash ONNX Runtime in this model), BGR, raw 0-255 values.
import type { RgbImage } from '../image.js';
import { padBottomRight } from '../preprocess/letterbox.js';
import { resizeBilinear } from '../preprocess/resize.js';
import { toChwF32 } from '../preprocess/tensor.js';

export const YUNET_MAX_SIDE_PX = 640;
const YUNET_SIZE_MULTIPLE_PX = 32;

export interface YunetInput {
  inputNchwF32: Float32Array;
  widthPx: number;
  heightPx: number;
  /** Model-input pixels per source pixel, at most 1. */
  scale: number;
}

export function prepareYunetInput(image: RgbImage, maxSidePx = YUNET_MAX_SIDE_PX): YunetInput {
  const scale = Math.min(1, maxSidePx / Math.max(image.width, image.height));
  const scaled =
    scale < 1
      ? resizeBilinear(image, Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)))
      : image;

  const widthPx = Math.ceil(scaled.width / YUNET_SIZE_MULTIPLE_PX) * YUNET_SIZE_MULTIPLE_PX;
  const heightPx = Math.ceil(scaled.height / YUNET_SIZE_MULTIPLE_PX) * YUNET_SIZE_MULTIPLE_PX;
  const padded = padBottomRight(scaled, widthPx, heightPx, 0);
  const inputNchwF32 = toChwF32(padded, { channelOrder: 'bgr', mean: 0, std: 1 });
  return { inputNchwF32, widthPx, heightPx, scale: scaled.width / image.width };
}
