// Bilinear resizing of RGB images, with the pixel-centre convention of OpenCV's INTER_LINEAR
// (no antialiasing when shrinking), which is what the models' reference pipelines used.
import type { RgbImage } from '../image.js';

/** Returns `image` resized to widthPx x heightPx by bilinear interpolation. */
export function resizeBilinear(image: RgbImage, widthPx: number, heightPx: number): RgbImage {
  const out = new Uint8Array(widthPx * heightPx * 3);
  const scaleX = image.width / widthPx;
  const scaleY = image.height / heightPx;
  const xIndex = new Int32Array(widthPx * 2);
  const xWeight = new Float32Array(widthPx);

  for (let x = 0; x < widthPx; x++) {
    const sourceX = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), image.width - 1);
    const x0 = Math.floor(sourceX);
    xIndex[2 * x] = x0 * 3;
    xIndex[2 * x + 1] = Math.min(x0 + 1, image.width - 1) * 3;
    xWeight[x] = sourceX - x0;
  }

  const src = image.data;
  const rowStride = image.width * 3;
  for (let y = 0; y < heightPx; y++) {
    const sourceY = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), image.height - 1);
    const y0 = Math.floor(sourceY);
    const wy = sourceY - y0;
    const row0 = y0 * rowStride;
    const row1 = Math.min(y0 + 1, image.height - 1) * rowStride;
    let o = y * widthPx * 3;
    for (let x = 0; x < widthPx; x++) {
      const i0 = xIndex[2 * x]!;
      const i1 = xIndex[2 * x + 1]!;
      const wx = xWeight[x]!;
      for (let c = 0; c < 3; c++) {
        const top = src[row0 + i0 + c]! + (src[row0 + i1 + c]! - src[row0 + i0 + c]!) * wx;
        const bottom = src[row1 + i0 + c]! + (src[row1 + i1 + c]! - src[row1 + i0 + c]!) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { width: widthPx, height: heightPx, data: out };
}
