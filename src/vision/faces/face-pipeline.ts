// Face analysis on one frame: detection, alignment, quality and, when requested, embeddings.
import type { RgbImage } from '../image.js';
import type { BoxXyxyPx, PointPx } from '../types.js';
import { alignFace } from './align.js';
import type { FaceDetector } from './face-detector.js';
import type { FaceEmbedder } from './face-embedder.js';
import { assessFaceQuality } from './quality.js';

export interface DetectedFace {
  box: BoxXyxyPx;
  /** Right eye, left eye, nose tip, right and left mouth corners (the subject's right and left). */
  landmarks: PointPx[];
  score: number;
  /** Score in 0..1 from face size, frontalness and sharpness. Higher is better for matching. */
  quality: number;
  /** L2-normalised 128-d embedding, present when embeddings were requested. */
  embedding?: Float32Array;
}

export interface FaceTimingsMs {
  faces: number;
  embeddings: number;
}

/** Detects faces and scores their quality, and embeds each face when `embedder` is given. */
export async function analyzeFaces(
  detector: FaceDetector,
  embedder: FaceEmbedder | null,
  image: RgbImage,
): Promise<{ faces: DetectedFace[]; timingsMs: FaceTimingsMs }> {
  const startedMs = performance.now();
  const detections = await detector.detect(image);
  const aligned = detections.map((d) => alignFace(image, d.landmarks));
  const faces: DetectedFace[] = detections.map((d, index) => ({
    box: d.box,
    landmarks: d.landmarks,
    score: d.score,
    quality: assessFaceQuality(d.box, d.landmarks, aligned[index]!).quality,
  }));
  const facesMs = performance.now() - startedMs;

  const embedStartedMs = performance.now();
  if (embedder) {
    for (const [index, face] of faces.entries()) face.embedding = await embedder.embed(aligned[index]!);
  }
  return { faces, timingsMs: { faces: facesMs, embeddings: embedder ? performance.now() - embedStartedMs : 0 } };
}
