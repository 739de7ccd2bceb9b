// Face alignment: a similarity warp that moves the five detected landmarks as close as possible to
// the standard 112x112 ArcFace landmark template, which the embedding model expects.
import type { RgbImage } from '../image.js';
import { estimateSimilarity, invertMat3 } from '../preprocess/transforms.js';
import { warpPerspective } from '../preprocess/warp.js';
import type { PointPx } from '../types.js';

export const ALIGNED_FACE_SIZE_PX = 112;

/** Landmark positions of the ArcFace template in a 112x112 crop, in the YuNet landmark order. */
export const ARCFACE_TEMPLATE_112: readonly PointPx[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** Returns the 112x112 aligned face crop for five landmarks in source pixels. */
export function alignFace(image: RgbImage, landmarks: readonly PointPx[]): RgbImage {
  if (landmarks.length !== 5) throw new RangeError(`alignFace needs 5 landmarks, got ${landmarks.length}`);
  const sourceToAligned = estimateSimilarity(landmarks, ARCFACE_TEMPLATE_112);
  const alignedToSource = invertMat3(sourceToAligned);
  if (!alignedToSource) {
    throw new RangeError('alignFace got landmarks that all coincide; the face cannot be aligned');
  }
  return warpPerspective(image, alignedToSource, ALIGNED_FACE_SIZE_PX, ALIGNED_FACE_SIZE_PX);
}
