// Preprocessing for mobilefacenet: an aligned 112x112 crop, RGB, (x - 127.5) / 128.
import type { RgbImage } from '../image.js';
import { toChwF32 } from '../preprocess/tensor.js';
import { ALIGNED_FACE_SIZE_PX } from './align.js';

export function prepareEmbedInput(alignedFace: RgbImage): Float32Array {
  if (alignedFace.width !== ALIGNED_FACE_SIZE_PX || alignedFace.height !== ALIGNED_FACE_SIZE_PX) {
    throw new RangeError(
      `aligned face should be ${ALIGNED_FACE_SIZE_PX}x${ALIGNED_FACE_SIZE_PX}, got ${alignedFace.width}x${alignedFace.height}`,
    );
  }
  return toChwF32(alignedFace, { channelOrder: 'rgb', mean: 127.5, std: 128 });
}
