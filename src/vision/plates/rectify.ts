// Perspective rectification of a plate from its four corners, and the double-row layout change
// that lets the single-line reader read two-row plates.
import type { RgbImage } from '../image.js';
import { resizeBilinear } from '../preprocess/resize.js';
import { solveHomography } from '../preprocess/transforms.js';
import { warpPerspective } from '../preprocess/warp.js';
import type { PointPx } from '../types.js';
import type { PlateCorners } from './plate-detect-decode.js';

function distance(a: PointPx, b: PointPx): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/**
 * Warps the quadrilateral `corners` (TL, TR, BR, BL) onto an upright rectangle as wide as its longer
 * horizontal edge and as tall as its longer vertical edge. Returns null for degenerate corners.
 */
export function rectifyPlate(image: RgbImage, corners: PlateCorners): RgbImage | null {
  const [topLeft, topRight, bottomRight, bottomLeft] = corners;
  const widthPx = Math.round(Math.max(distance(topLeft, topRight), distance(bottomLeft, bottomRight)));
  const heightPx = Math.round(Math.max(distance(topLeft, bottomLeft), distance(topRight, bottomRight)));
  if (widthPx < 2 || heightPx < 2) return null;

  const rectangle: PointPx[] = [
    [0, 0],
    [widthPx - 1, 0],
    [widthPx - 1, heightPx - 1],
    [0, heightPx - 1],
  ];
  const rectangleToSource = solveHomography(rectangle, corners);
  if (!rectangleToSource) return null;
  return warpPerspective(image, rectangleToSource, widthPx, heightPx);
}

/**
 * Rearranges a rectified two-row plate into one row for the reader. The lower part starts at 1/3 of
 * the height. The top 5/12 (province character and authority letter) is resized to the size of the
 * lower part and placed to its left. The two parts overlap on purpose, as in the reader's training.
 */
export function mergeDoubleRowPlate(plate: RgbImage): RgbImage {
  const upperHeightPx = Math.max(1, Math.floor((plate.height * 5) / 12));
  const lowerStartPx = Math.floor(plate.height / 3);
  const lowerHeightPx = Math.max(1, plate.height - lowerStartPx);
  const rowBytes = plate.width * 3;

  const upper: RgbImage = {
    width: plate.width,
    height: upperHeightPx,
    data: plate.data.subarray(0, upperHeightPx * rowBytes),
  };
  const upperResized = resizeBilinear(upper, plate.width, lowerHeightPx);
  const lower = plate.data.subarray(lowerStartPx * rowBytes, (lowerStartPx + lowerHeightPx) * rowBytes);

  const mergedWidthPx = plate.width * 2;
  const data = new Uint8Array(mergedWidthPx * lowerHeightPx * 3);
  for (let row = 0; row < lowerHeightPx; row++) {
    const target = row * mergedWidthPx * 3;
    data.set(upperResized.data.subarray(row * rowBytes, (row + 1) * rowBytes), target);
    data.set(lower.subarray(row * rowBytes, (row + 1) * rowBytes), target + rowBytes);
  }
  return { width: mergedWidthPx, height: lowerHeightPx, data };
}
