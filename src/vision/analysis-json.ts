// Plain-JSON form of an Analysis: rounded numbers, embeddings as number arrays or left out.
import type { Analysis } from './cascade.js';
import type { BoxXyxyPx, PointPx } from './types.js';

const round1 = (value: number): number => Math.round(value * 10) / 10;
const round3 = (value: number): number => Math.round(value * 1000) / 1000;
const roundBox = (box: BoxXyxyPx): BoxXyxyPx => [round1(box[0]), round1(box[1]), round1(box[2]), round1(box[3])];
const roundPoint = (point: PointPx): PointPx => [round1(point[0]), round1(point[1])];

export interface AnalysisJson {
  plates: object[];
  faces: object[];
  objects: object[];
}

/** Converts the detections of one frame. Embeddings are included only when `withEmbeddings` is set. */
export function analysisToJson(analysis: Analysis, withEmbeddings: boolean): AnalysisJson {
  return {
    plates: analysis.plates.map((plate) => ({
      ...plate,
      confidence: round3(plate.confidence),
      detectionScore: round3(plate.detectionScore),
      box: roundBox(plate.box),
      corners: plate.corners.map(roundPoint),
    })),
    faces: analysis.faces.map((face) => ({
      box: roundBox(face.box),
      landmarks: face.landmarks.map(roundPoint),
      score: round3(face.score),
      quality: round3(face.quality),
      ...(withEmbeddings && face.embedding ? { embedding: Array.from(face.embedding, (v) => Math.round(v * 1e5) / 1e5) } : {}),
    })),
    objects: analysis.objects.map((object) => ({ label: object.label, box: roundBox(object.box), score: round3(object.score) })),
  };
}
