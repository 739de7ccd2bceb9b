// Preprocessing for plate_rec_color: each rectified plate is resized to 168x48 and normalised as
// (x/255 - 0.588) / 0.193 in BGR order. RGB order turns 冀 into 赣, so the order matters.
import type { RgbImage } from '../image.js';
import { resizeBilinear } from '../preprocess/resize.js';
import { toChwF32, type PixelNormalisation } from '../preprocess/tensor.js';

export const PLATE_READ_WIDTH_PX = 168;
export const PLATE_READ_HEIGHT_PX = 48;

const NORMALISATION: PixelNormalisation = { channelOrder: 'bgr', mean: 0.588 * 255, std: 0.193 * 255 };

/** Packs the plates into one [n, 3, 48, 168] batch. */
export function preparePlateReadBatch(plates: readonly RgbImage[]): Float32Array {
  const planeCount = 3 * PLATE_READ_WIDTH_PX * PLATE_READ_HEIGHT_PX;
  const batchNchwF32 = new Float32Array(plates.length * planeCount);
  plates.forEach((plate, index) => {
    const resized = resizeBilinear(plate, PLATE_READ_WIDTH_PX, PLATE_READ_HEIGHT_PX);
    toChwF32(resized, NORMALISATION, batchNchwF32, index * planeCount);
  });
  return batchNchwF32;
}
