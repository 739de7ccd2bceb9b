// Plate recognition on one frame: detection, rectification, batched reading, and the format check
// that turns reads into reported plates or rejected reads.
import type { RgbImage } from '../image.js';
import type { BoxXyxyPx } from '../types.js';
import { classifyPlate, type PlateFormat } from './format.js';
import type { PlateCorners, PlateDetection } from './plate-detect-decode.js';
import type { PlateDetector } from './plate-detector.js';
import type { PlateColor } from './plate-read-decode.js';
import type { PlateReader } from './plate-reader.js';
import { mergeDoubleRowPlate, rectifyPlate } from './rectify.js';

export interface PlateRead {
  text: string;
  format: PlateFormat;
  color: PlateColor;
  rows: 1 | 2;
  /** Lowest per-character probability of the read, 0..1. */
  confidence: number;
  box: BoxXyxyPx;
  corners: PlateCorners;
  detectionScore: number;
}

export interface PlateReadResult {
  plates: PlateRead[];
  /** Detections whose text fits no plate format (truck lettering, hazard signs, misreads). */
  rejectedReads: number;
}

/** Returns the rectified single-row image the reader takes, or null for degenerate corners. */
export function preparePlateForReading(image: RgbImage, detection: Pick<PlateDetection, 'corners' | 'rows'>): RgbImage | null {
  const rectified = rectifyPlate(image, detection.corners);
  if (!rectified) return null;
  return detection.rows === 2 ? mergeDoubleRowPlate(rectified) : rectified;
}

export async function recognizePlates(
  detector: PlateDetector,
  reader: PlateReader,
  image: RgbImage,
): Promise<PlateReadResult> {
  const detections = await detector.detect(image);

  const readable: PlateDetection[] = [];
  const crops: RgbImage[] = [];
  for (const detection of detections) {
    const crop = preparePlateForReading(image, detection);
    if (!crop) continue;
    readable.push(detection);
    crops.push(crop);
  }
  const readings = await reader.read(crops);

  const plates: PlateRead[] = [];
  let rejectedReads = detections.length - readable.length;
  readings.forEach((reading, index) => {
    const detection = readable[index]!;
    const format = classifyPlate(reading.text);
    if (!format) {
      rejectedReads++;
      return;
    }
    plates.push({
      text: reading.text,
      format,
      color: reading.color,
      rows: detection.rows,
      confidence: reading.confidence,
      box: detection.box,
      corners: detection.corners,
      detectionScore: detection.score,
    });
  });
  return { plates, rejectedReads };
}
