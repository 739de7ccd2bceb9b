// Preprocessing for plate_detect: centred letterbox to 640x640 padded with 114, RGB, scaled to 0..1.
import type { RgbImage } from '../image.js';
import { letterbox, type Letterboxed } from '../preprocess/letterbox.js';
import { toChwF32 } from '../preprocess/tensor.js';

export const PLATE_DETECT_INPUT_SIZE_PX = 640;

export interface PlateDetectInput {
  inputNchwF32: Float32Array;
  letterboxed: Letterboxed;
}

export function preparePlateDetectInput(image: RgbImage): PlateDetectInput {
  const size = PLATE_DETECT_INPUT_SIZE_PX;
  const letterboxed = letterbox(image, size, size, 'centre', 114);
  const inputNchwF32 = toChwF32(letterboxed.image, { channelOrder: 'rgb', mean: 0, std: 255 });
  return { inputNchwF32, letterboxed };
}
