// Preprocessing for yolox_nano: top-left letterbox to 416x416 padded with 114, BGR, raw 0-255
// values. Dividing by 255 here makes every score close to zero, so the values stay unscaled.
import type { RgbImage } from '../image.js';
import { letterbox, type Letterboxed } from '../preprocess/letterbox.js';
import { toChwF32 } from '../preprocess/tensor.js';

export const YOLOX_INPUT_SIZE_PX = 416;

export interface YoloxInput {
  inputNchwF32: Float32Array;
  letterboxed: Letterboxed;
}

export function prepareYoloxInput(image: RgbImage): YoloxInput {
  const letterboxed = letterbox(image, YOLOX_INPUT_SIZE_PX, YOLOX_INPUT_SIZE_PX, 'top-left', 114);
  const inputNchwF32 = toChwF32(letterboxed.image, { channelOrder: 'bgr', mean: 0, std: 1 });
  return { inputNchwF32, letterboxed };
}
