// Face quality in 0..1 for choosing which faces to embed and send: the geometric mean of a size
// score, a frontalness score from the landmarks and a sharpness score of the aligned crop.
import type { RgbImage } from '../image.js';
import type { BoxXyxyPx, PointPx } from '../types.js';

/** Shorter box side at which the size score starts to rise, and where it reaches 1. */
const MIN_FACE_SIDE_PX = 20;
const FULL_FACE_SIDE_PX = 96;
/** Horizontal nose offset from the eye midpoint, in inter-ocular distances, that scores 0. */
const MAX_YAW_OFFSET = 0.45;
/**
 * Nose height between the eye line (0) and the mouth line (1) of a frontal face. YuNet puts the nose
 * tip lower than the ArcFace template does (0.49): 0.52-0.68 on frontal fixture photos.
 */
const FRONTAL_NOSE_HEIGHT = 0.57;
const MAX_NOSE_HEIGHT_DEVIATION = 0.35;
/**
 * Laplacian variance of the aligned grey crop at which the sharpness score reaches 1.
 * NOTE: set from the fixture photos and the two-speaker clip, not from a calibration set.
 */
const SHARP_LAPLACIAN_VARIANCE = 250;

export interface FaceQualityParts {
  size: number;
  frontalness: number;
  sharpness: number;
  quality: number;
}

export function assessFaceQuality(box: BoxXyxyPx, landmarks: readonly PointPx[], alignedFace: RgbImage): FaceQualityParts {
  const shorterSidePx = Math.min(box[2] - box[0], box[3] - box[1]);
  const size = clamp01((shorterSidePx - MIN_FACE_SIDE_PX) / (FULL_FACE_SIDE_PX - MIN_FACE_SIDE_PX));
  const frontalness = scoreFrontalness(landmarks);
  const sharpness = clamp01(laplacianVariance(alignedFace) / SHARP_LAPLACIAN_VARIANCE);
  return { size, frontalness, sharpness, quality: Math.cbrt(size * frontalness * sharpness) };
}

/**
 * Scores 1 for a frontal face and falls to 0 as the nose moves sideways from the eye midpoint (yaw)
 * or up or down from its usual height between eyes and mouth (pitch). Works in a frame rotated so
 * the eye line is horizontal, so head roll does not count.
 */
export function scoreFrontalness(landmarks: readonly PointPx[]): number {
  const [rightEye, leftEye, nose, rightMouth, leftMouth] = landmarks as [PointPx, PointPx, PointPx, PointPx, PointPx];
  const eyeMid: PointPx = [(rightEye[0] + leftEye[0]) / 2, (rightEye[1] + leftEye[1]) / 2];
  const mouthMid: PointPx = [(rightMouth[0] + leftMouth[0]) / 2, (rightMouth[1] + leftMouth[1]) / 2];
  const eyeDistance = Math.hypot(leftEye[0] - rightEye[0], leftEye[1] - rightEye[1]);
  if (eyeDistance < 1e-6) return 0;

  const cos = (leftEye[0] - rightEye[0]) / eyeDistance;
  const sin = (leftEye[1] - rightEye[1]) / eyeDistance;
  const toEyeFrame = (p: PointPx): PointPx => {
    const dx = p[0] - eyeMid[0];
    const dy = p[1] - eyeMid[1];
    return [dx * cos + dy * sin, -dx * sin + dy * cos];
  };
  const noseInFrame = toEyeFrame(nose);
  const mouthInFrame = toEyeFrame(mouthMid);

  const yawScore = clamp01(1 - Math.abs(noseInFrame[0] / eyeDistance) / MAX_YAW_OFFSET);
  if (mouthInFrame[1] <= 0) return 0;
  const noseHeight = noseInFrame[1] / mouthInFrame[1];
  const pitchScore = clamp01(1 - Math.abs(noseHeight - FRONTAL_NOSE_HEIGHT) / MAX_NOSE_HEIGHT_DEVIATION);
  return yawScore * pitchScore;
}

/** Variance of the 4-neighbour Laplacian of the grey image, over interior pixels. */
export function laplacianVariance(image: RgbImage): number {
  const { width, height, data } = image;
  if (width < 3 || height < 3) return 0;
  const grey = new Float32Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
  }

  let sum = 0;
  let sumOfSquares = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const laplacian = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += laplacian;
      sumOfSquares += laplacian * laplacian;
    }
  }
  const count = (width - 2) * (height - 2);
  const mean = sum / count;
  return sumOfSquares / count - mean * mean;
}

function clamp01(value: number): number {
  return Math.min(Math.max(value, 0), 1);
}
