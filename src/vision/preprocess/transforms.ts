// Estimating 2D transforms from point correspondences: a homography from four corners (plate
// rectification) and a least-squares similarity from face landmarks (face alignment).
import type { Mat3, PointPx } from '../types.js';

/** Applies a 3x3 homogeneous transform to a point. */
export function applyMat3(m: Mat3, xPx: number, yPx: number): PointPx {
  const w = m[6] * xPx + m[7] * yPx + m[8];
  return [(m[0] * xPx + m[1] * yPx + m[2]) / w, (m[3] * xPx + m[4] * yPx + m[5]) / w];
}

/** Returns the inverse of `m`, or null when `m` is singular. */
export function invertMat3(m: Mat3): Mat3 | null {
  const [a, b, c, d, e, f, g, h, i] = m;
  const c00 = e * i - f * h;
  const c01 = f * g - d * i;
  const c02 = d * h - e * g;
  const det = a * c00 + b * c01 + c * c02;
  if (Math.abs(det) < 1e-12) return null;
  const k = 1 / det;
  return [
    c00 * k, (c * h - b * i) * k, (b * f - c * e) * k,
    c01 * k, (a * i - c * g) * k, (c * d - a * f) * k,
    c02 * k, (b * g - a * h) * k, (a * e - b * d) * k,
  ];
}

/**
 * Returns the homography that maps each `from[k]` onto `to[k]` (four pairs, no three points
 * collinear), or null when the corners are degenerate. Solves the 8x8 DLT system with h33 = 1.
 */
export function solveHomography(from: readonly PointPx[], to: readonly PointPx[]): Mat3 | null {
  if (from.length !== 4 || to.length !== 4) throw new RangeError('solveHomography needs exactly 4 point pairs');
  const rows: number[][] = [];
  for (let k = 0; k < 4; k++) {
    const [x, y] = from[k]!;
    const [u, v] = to[k]!;
    rows.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    rows.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  const h = solveLinearSystem(rows);
  if (!h) return null;
  return [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, 1];
}

/** Gauss-Jordan elimination with partial pivoting on an n x (n+1) augmented matrix. */
function solveLinearSystem(augmented: number[][]): number[] | null {
  const n = augmented.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(augmented[r]![col]!) > Math.abs(augmented[pivot]![col]!)) pivot = r;
    }
    if (Math.abs(augmented[pivot]![col]!) < 1e-10) return null;
    [augmented[col], augmented[pivot]] = [augmented[pivot]!, augmented[col]!];

    const pivotRow = augmented[col]!;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = augmented[r]!;
      const factor = row[col]! / pivotRow[col]!;
      for (let c = col; c <= n; c++) row[c]! -= factor * pivotRow[c]!;
    }
  }
  return augmented.map((row, r) => row[n]! / row[r]!);
}

/**
 * Returns the similarity transform (rotation, uniform scale, translation, no reflection) that maps
 * `from` onto `to` with the least squared error. In 2D this closed form equals Umeyama's estimate.
 */
export function estimateSimilarity(from: readonly PointPx[], to: readonly PointPx[]): Mat3 {
  const n = from.length;
  if (n < 2 || to.length !== n) throw new RangeError('estimateSimilarity needs at least 2 point pairs of equal count');
  let fromMeanX = 0, fromMeanY = 0, toMeanX = 0, toMeanY = 0;
  for (let k = 0; k < n; k++) {
    fromMeanX += from[k]![0] / n;
    fromMeanY += from[k]![1] / n;
    toMeanX += to[k]![0] / n;
    toMeanY += to[k]![1] / n;
  }

  let dot = 0, cross = 0, fromVariance = 0;
  for (let k = 0; k < n; k++) {
    const x = from[k]![0] - fromMeanX;
    const y = from[k]![1] - fromMeanY;
    const u = to[k]![0] - toMeanX;
    const v = to[k]![1] - toMeanY;
    dot += x * u + y * v;
    cross += x * v - y * u;
    fromVariance += x * x + y * y;
  }

  // a = s*cos(theta), b = s*sin(theta)
  const a = fromVariance > 0 ? dot / fromVariance : 1;
  const b = fromVariance > 0 ? cross / fromVariance : 0;
  const tx = toMeanX - (a * fromMeanX - b * fromMeanY);
  const ty = toMeanY - (b * fromMeanX + a * fromMeanY);
  return [a, -b, tx, b, a, ty, 0, 0, 1];
}
