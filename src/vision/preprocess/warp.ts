// Bilinear image warping by a 3x3 transform (perspective or affine), for plate rectification and
// face alignment. The transform maps output pixels to source pixels.
import type { RgbImage } from '../image.js';
import type { Mat3 } from '../types.js';

/**
 * Returns a widthPx x heightPx image whose pixel (x, y) samples `image` at dstToSrc * (x, y, 1),
 * bilinearly. Samples outside the source take `borderValue`, as OpenCV's BORDER_CONSTANT does.
 */
export function warpPerspective(
  image: RgbImage,
  dstToSrc: Mat3,
  widthPx: number,
  heightPx: number,
  borderValue = 0,
): RgbImage {
  const out = new Uint8Array(widthPx * heightPx * 3);
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = dstToSrc;
  let o = 0;
  for (let y = 0; y < heightPx; y++) {
    for (let x = 0; x < widthPx; x++) {
      const w = m6 * x + m7 * y + m8;
      const sourceX = (m0 * x + m1 * y + m2) / w;
      const sourceY = (m3 * x + m4 * y + m5) / w;
      sampleBilinear(image, sourceX, sourceY, borderValue, out, o);
      o += 3;
    }
  }
  return { width: widthPx, height: heightPx, data: out };
}

function sampleBilinear(
  image: RgbImage,
  xPx: number,
  yPx: number,
  borderValue: number,
  out: Uint8Array,
  outIndex: number,
): void {
  const x0 = Math.floor(xPx);
  const y0 = Math.floor(yPx);
  const wx = xPx - x0;
  const wy = yPx - y0;
  for (let c = 0; c < 3; c++) {
    const p00 = pixelOrBorder(image, x0, y0, c, borderValue);
    const p10 = pixelOrBorder(image, x0 + 1, y0, c, borderValue);
    const p01 = pixelOrBorder(image, x0, y0 + 1, c, borderValue);
    const p11 = pixelOrBorder(image, x0 + 1, y0 + 1, c, borderValue);
    const top = p00 + (p10 - p00) * wx;
    const bottom = p01 + (p11 - p01) * wx;
    out[outIndex + c] = Math.round(top + (bottom - top) * wy);
  }
}

function pixelOrBorder(image: RgbImage, x: number, y: number, channel: number, borderValue: number): number {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return borderValue;
  return image.data[(y * image.width + x) * 3 + channel]!;
}
