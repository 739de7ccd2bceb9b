// Letterboxing: scale an image to fit a fixed model input without changing its aspect ratio, pad
// the rest with a constant, and map model-input coordinates back to source pixels.
import type { RgbImage } from '../image.js';
import type { LetterboxAnchor, PointPx } from '../types.js';
import { resizeBilinear } from './resize.js';

export interface Letterboxed {
  /** The padded image, exactly widthPx x heightPx. */
  image: RgbImage;
  /** Model-input pixels per source pixel. */
  scale: number;
  /** Left and top padding in model-input pixels. */
  offsetXPx: number;
  offsetYPx: number;
}

/**
 * Scales `image` by min(widthPx / w, heightPx / h) and places it at the top-left corner or in the
 * centre of a widthPx x heightPx canvas filled with `padValue` in every channel.
 */
export function letterbox(
  image: RgbImage,
  widthPx: number,
  heightPx: number,
  anchor: LetterboxAnchor,
  padValue = 114,
): Letterboxed {
  const scale = Math.min(widthPx / image.width, heightPx / image.height);
  const scaledWidthPx = Math.max(1, Math.min(widthPx, Math.round(image.width * scale)));
  const scaledHeightPx = Math.max(1, Math.min(heightPx, Math.round(image.height * scale)));
  const scaled = resizeBilinear(image, scaledWidthPx, scaledHeightPx);

  const offsetXPx = anchor === 'centre' ? Math.floor((widthPx - scaledWidthPx) / 2) : 0;
  const offsetYPx = anchor === 'centre' ? Math.floor((heightPx - scaledHeightPx) / 2) : 0;
  const data = new Uint8Array(widthPx * heightPx * 3).fill(padValue);
  for (let row = 0; row < scaledHeightPx; row++) {
    const sourceStart = row * scaledWidthPx * 3;
    const targetStart = ((row + offsetYPx) * widthPx + offsetXPx) * 3;
    data.set(scaled.data.subarray(sourceStart, sourceStart + scaledWidthPx * 3), targetStart);
  }
  return { image: { width: widthPx, height: heightPx, data }, scale, offsetXPx, offsetYPx };
}

/** Maps a point in letterboxed model-input pixels back to source pixels. */
export function unletterboxPoint(letterboxed: Letterboxed, xPx: number, yPx: number): PointPx {
  return [(xPx - letterboxed.offsetXPx) / letterboxed.scale, (yPx - letterboxed.offsetYPx) / letterboxed.scale];
}

/** Pads `image` at the right and bottom with `padValue` to widthPx x heightPx (both at least as large). */
export function padBottomRight(image: RgbImage, widthPx: number, heightPx: number, padValue = 0): RgbImage {
  const data = new Uint8Array(widthPx * heightPx * 3).fill(padValue);
  for (let row = 0; row < image.height; row++) {
    data.set(image.data.subarray(row * image.width * 3, (row + 1) * image.width * 3), row * widthPx * 3);
  }
  return { width: widthPx, height: heightPx, data };
}
