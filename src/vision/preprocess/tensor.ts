// Conversion of RGB HWC u8 images into the float CHW tensors the models take.
import type { RgbImage } from '../image.js';
import type { ChannelOrder } from '../types.js';

/** Per-model pixel normalisation: value = (pixel - mean) / std, with pixel in 0..255. */
export interface PixelNormalisation {
  channelOrder: ChannelOrder;
  mean: number;
  std: number;
}

/**
 * Writes `image` into `target` as CHW float32, starting at `offset` elements, so several images can
 * fill one batch tensor. Returns `target`, which is allocated when omitted.
 */
export function toChwF32(
  image: RgbImage,
  normalisation: PixelNormalisation,
  target = new Float32Array(3 * image.width * image.height),
  offset = 0,
): Float32Array {
  const planeSize = image.width * image.height;
  const { mean, std } = normalisation;
  const inverseStd = 1 / std;
  // Layout change HWC -> CHW: plane p of the output takes source channel order[p].
  const order = normalisation.channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let plane = 0; plane < 3; plane++) {
    const sourceChannel = order[plane]!;
    const planeStart = offset + plane * planeSize;
    for (let i = 0; i < planeSize; i++) {
      target[planeStart + i] = (image.data[i * 3 + sourceChannel]! - mean) * inverseStd;
    }
  }
  return target;
}
