// Turns one frame's analysis into complete events (text, geometry, evidence in one message) and
// commits them to the outbox. Timing fields come from the frame and the analysis.
import type { Analysis, DetectedFace, PlateRead } from '../../src/vision/cascade.js';
import { encodeJpeg, type RgbImage } from '../../src/vision/image.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';
import { EVENT_SCHEMA_VERSION, type Evidence, type PatrolEvent } from '../../src/protocol/event.js';
import { eventTopic } from '../../src/protocol/topics.js';
import type { Outbox } from '../uplink/outbox.js';

/** Maximum side of an evidence crop in pixels, which keeps each event well under the MQTT size cap. */
const EVIDENCE_MAX_SIDE_PX = 240;
const EVIDENCE_JPEG_QUALITY = 80;

export interface AnalysedFrame {
  carId: string;
  cameraId: string;
  image: RgbImage;
  receivedAtMs: number;
  inferenceStartedAtMs: number;
  analysedAtMs: number;
  clockOffsetMs: number | null;
  analysis: Analysis;
}

/** An event before the outbox assigns its sequence number and commit time. */
type EventDraft = PatrolEvent extends infer E ? (E extends PatrolEvent ? Omit<E, 'seq' | 'committedAtMs'> : never) : never;

/** Builds the events of one analysed frame and commits each to the outbox; returns their sequence numbers. */
export async function commitFrameEvents(frame: AnalysedFrame, outbox: Outbox): Promise<number[]> {
  const drafts: EventDraft[] = [];
  for (const plate of frame.analysis.plates) {
    drafts.push({ ...baseFields(frame), kind: 'plate', plate: platePayload(plate), evidence: [await crop(frame.image, plate.box, 'plate-crop', 0.15)] });
  }
  for (const face of frame.analysis.faces) {
    if (!face.embedding) continue;
    drafts.push({ ...baseFields(frame), kind: 'face', face: facePayload(face), evidence: [await crop(frame.image, face.box, 'face-crop', 0.3)] });
  }
  if (frame.analysis.objects.length > 0) {
    drafts.push({
      ...baseFields(frame),
      kind: 'objects',
      objects: frame.analysis.objects.map((o) => ({ label: o.label, box: roundBox(o.box), score: round(o.score, 3) })),
      evidence: [],
    });
  }
  return drafts.map((draft) =>
    outbox.append((seq, committedAtMs) => ({
      topic: eventTopic(frame.carId),
      payload: Buffer.from(JSON.stringify({ ...draft, seq, committedAtMs })),
    })),
  );
}

function baseFields(frame: AnalysedFrame) {
  return {
    v: EVENT_SCHEMA_VERSION as typeof EVENT_SCHEMA_VERSION,
    carId: frame.carId,
    cameraId: frame.cameraId,
    frameReceivedAtMs: frame.receivedAtMs,
    analysedAtMs: frame.analysedAtMs,
    clockOffsetMs: frame.clockOffsetMs,
    stages: {
      queueMs: frame.inferenceStartedAtMs - frame.receivedAtMs,
      inferenceMs: frame.analysedAtMs - frame.inferenceStartedAtMs,
    },
  };
}

function platePayload(plate: PlateRead) {
  return {
    text: plate.text,
    format: plate.format,
    color: plate.color,
    rows: plate.rows,
    confidence: round(plate.confidence, 4),
    box: roundBox(plate.box),
    corners: plate.corners.map(([x, y]) => [round(x, 1), round(y, 1)]) as [[number, number], [number, number], [number, number], [number, number]],
  };
}

function facePayload(face: DetectedFace) {
  return {
    box: roundBox(face.box),
    landmarks: face.landmarks.map(([x, y]) => [round(x, 1), round(y, 1)] as [number, number]),
    score: round(face.score, 4),
    quality: round(face.quality, 4),
    embedding: Array.from(face.embedding!, (value) => round(value, 5)),
  };
}

/** Encodes a JPEG of `box` grown by `margin` (a fraction of its size) on each side. */
async function crop(image: RgbImage, box: BoxXyxyPx, kind: Evidence['kind'], margin: number): Promise<Evidence> {
  const [x1, y1, x2, y2] = box;
  const padX = (x2 - x1) * margin;
  const padY = (y2 - y1) * margin;
  const grown: BoxXyxyPx = [x1 - padX, y1 - padY, x2 + padX, y2 + padY];
  const jpeg = await encodeJpeg(image, grown, EVIDENCE_MAX_SIDE_PX, EVIDENCE_JPEG_QUALITY);
  return { kind, jpegBase64: jpeg.toString('base64') };
}

function roundBox(box: BoxXyxyPx): BoxXyxyPx {
  return [round(box[0], 1), round(box[1], 1), round(box[2], 1), round(box[3], 1)];
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
