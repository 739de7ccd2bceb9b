// Non-maximum suppression over scored boxes, class-agnostic or per class.
import type { BoxXyxyPx } from '../types.js';

export interface ScoredBox {
  box: BoxXyxyPx;
  score: number;
}

/** Intersection over union of two boxes, or 0 when either has no area. */
export function iouXyxy(a: BoxXyxyPx, b: BoxXyxyPx): number {
  const overlapWidth = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const overlapHeight = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (overlapWidth <= 0 || overlapHeight <= 0) return 0;
  const intersection = overlapWidth * overlapHeight;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Keeps the highest-scoring boxes and drops every box whose IoU with a kept box exceeds
 * `iouThreshold`. Returns the kept items ordered by descending score.
 */
export function nms<T extends ScoredBox>(items: readonly T[], iouThreshold: number): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const candidate of sorted) {
    if (kept.every((k) => iouXyxy(k.box, candidate.box) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/** Runs `nms` separately within each class given by `classOf`, then orders all by descending score. */
export function nmsPerClass<T extends ScoredBox, K>(items: readonly T[], iouThreshold: number, classOf: (item: T) => K): T[] {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = classOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const kept = [...groups.values()].flatMap((group) => nms(group, iouThreshold));
  return kept.sort((a, b) => b.score - a.score);
}
