// One camera frame through the models, as the agent needs it: people and vehicles, plates on frames
// with a vehicle, faces in people's head areas or the whole frame (whichever is cheaper), and an
// embedding per face. Runs wherever its caller puts it (main thread or worker); tracking is elsewhere.
import type { Logger } from '../../src/common/log.js';
import { Cascade, type DetectedObject, type PlateRead } from '../../src/vision/cascade.js';
import { alignFace } from '../../src/vision/faces/align.js';
import type { FaceDetection } from '../../src/vision/faces/yunet-decode.js';
import { assessFaceQuality, type FaceQualityParts } from '../../src/vision/faces/quality.js';
import { cropImage, type RgbImage } from '../../src/vision/image.js';
import { nms } from '../../src/vision/postprocess/nms.js';
import { recognizePlates } from '../../src/vision/plates/plate-pipeline.js';
import type { BoxXyxyPx, PointPx } from '../../src/vision/types.js';
import { chooseFaceSearch, DEFAULT_FACE_DETECTOR_COST, faceInputPixels, fitFaceDetectorCost, type FaceDetectorCost } from './face-regions.js';

export type AnalysisKind = 'plates' | 'faces';

export interface AnalysisRequest {
  image: RgbImage;
  analyses: readonly AnalysisKind[];
  /** Region of interest in image pixels; null analyses the whole frame. */
  roiPx: BoxXyxyPx | null;
}

export interface AnalysedFace {
  box: BoxXyxyPx;
  /** Right eye, left eye, nose tip, right and left mouth corners (the subject's right and left). */
  landmarks: PointPx[];
  score: number;
  /** Geometric mean of the three parts, 0..1. */
  quality: number;
  qualityParts: Omit<FaceQualityParts, 'quality'>;
  /** L2-normalised 128-d embedding. */
  embedding: Float32Array;
}

export interface FrameAnalysis {
  /** Boxes of every list are in the pixels of the request's image, ROI or not. */
  objects: DetectedObject[];
  plates: PlateRead[];
  faces: AnalysedFace[];
  /** Plate detections whose text fits no plate format. */
  rejectedPlateReads: number;
  /** Wall-clock time of each stage, or 0 when it did not run, ms. */
  timingsMs: { objects: number; plates: number; faces: number; embeddings: number };
  /** Face search used: none, the whole frame, or people's head areas. */
  faceSearch: 'off' | 'whole' | 'regions';
}

const VEHICLES_WITH_PLATES: ReadonlySet<string> = new Set(['car', 'bus', 'truck', 'motorcycle']);
/** IoU above which two faces found in overlapping head areas are the same face. */
const FACE_MERGE_IOU = 0.3;

export class FrameAnalyser {
  constructor(
    readonly cascade: Cascade,
    readonly faceCost: FaceDetectorCost = DEFAULT_FACE_DETECTOR_COST,
  ) {}

  static async load(modelsDir: string, options: { threads?: number; logger?: Logger; faceCost?: FaceDetectorCost } = {}): Promise<FrameAnalyser> {
    return new FrameAnalyser(await Cascade.load(modelsDir, options), options.faceCost);
  }

  async analyse(request: AnalysisRequest): Promise<FrameAnalysis> {
    const [offsetX, offsetY] = request.roiPx ? [Math.floor(request.roiPx[0]), Math.floor(request.roiPx[1])] : [0, 0];
    const image = request.roiPx ? cropImage(request.image, request.roiPx) : request.image;
    const timingsMs = { objects: 0, plates: 0, faces: 0, embeddings: 0 };

    let startedMs = performance.now();
    const objects = await this.cascade.objectDetector.detect(image);
    timingsMs.objects = performance.now() - startedMs;

    let plates: PlateRead[] = [];
    let rejectedPlateReads = 0;
    // Plates always run on the whole frame: plate_detect takes a fixed 640x640 input, so one run per
    // vehicle costs as much as the whole frame for one vehicle and more for several.
    if (request.analyses.includes('plates') && objects.some((o) => VEHICLES_WITH_PLATES.has(o.label))) {
      startedMs = performance.now();
      const result = await recognizePlates(this.cascade.plateDetector, this.cascade.plateReader, image);
      plates = result.plates;
      rejectedPlateReads = result.rejectedReads;
      timingsMs.plates = performance.now() - startedMs;
    }

    const people = objects.filter((o) => o.label === 'person').map((o) => o.box);
    let faces: AnalysedFace[] = [];
    let faceSearch: FrameAnalysis['faceSearch'] = 'off';
    if (request.analyses.includes('faces') && people.length > 0) {
      const found = await this.findFaces(image, people, timingsMs);
      faces = found.faces;
      faceSearch = found.mode;
    }

    return {
      objects: objects.map((o) => ({ ...o, box: shiftBox(o.box, offsetX, offsetY) })),
      plates: plates.map((p) => ({ ...p, box: shiftBox(p.box, offsetX, offsetY), corners: p.corners.map((c) => shiftPoint(c, offsetX, offsetY)) as PlateRead['corners'] })),
      faces: faces.map((f) => ({ ...f, box: shiftBox(f.box, offsetX, offsetY), landmarks: f.landmarks.map((l) => shiftPoint(l, offsetX, offsetY)) })),
      rejectedPlateReads,
      timingsMs,
      faceSearch,
    };
  }

  async close(): Promise<void> {
    await this.cascade.close();
  }

  /** Detects faces by the cheaper search, then scores and embeds each one on the full image. */
  private async findFaces(image: RgbImage, people: BoxXyxyPx[], timingsMs: FrameAnalysis['timingsMs']): Promise<{ faces: AnalysedFace[]; mode: 'whole' | 'regions' }> {
    const startedMs = performance.now();
    const search = chooseFaceSearch(image, people, this.faceCost);
    const detections = search.mode === 'whole' ? await this.cascade.faceDetector.detect(image) : await this.detectInRegions(image, search.regions);
    const aligned = detections.map((d) => alignFace(image, d.landmarks));
    const scored = detections.map((d, index) => {
      const { quality, ...qualityParts } = assessFaceQuality(d.box, d.landmarks, aligned[index]!);
      return { ...d, quality, qualityParts };
    });
    timingsMs.faces = performance.now() - startedMs;

    const embedStartedMs = performance.now();
    const faces: AnalysedFace[] = [];
    for (const [index, face] of scored.entries()) {
      faces.push({ ...face, embedding: await this.cascade.faceEmbedder.embed(aligned[index]!) });
    }
    timingsMs.embeddings = performance.now() - embedStartedMs;
    return { faces, mode: search.mode };
  }

  private async detectInRegions(image: RgbImage, regions: readonly BoxXyxyPx[]): Promise<FaceDetection[]> {
    const found: FaceDetection[] = [];
    for (const region of regions) {
      const crop = cropImage(image, region);
      for (const face of await this.cascade.faceDetector.detect(crop)) {
        found.push({ ...face, box: shiftBox(face.box, region[0], region[1]), landmarks: face.landmarks.map((l) => shiftPoint(l, region[0], region[1])) });
      }
    }
    return nms(found, FACE_MERGE_IOU);
  }
}

/** Sides of the two blank inputs timed for the face detector's cost model, px. */
const COST_SAMPLE_SIDES_PX = [64, 320] as const;
const COST_SAMPLE_RUNS = 4;

/**
 * Times the face detector on blank inputs of two sizes and fits a linear cost, for benchmarks that
 * check DEFAULT_FACE_DETECTOR_COST on other hardware. The fastest of several runs is kept, because
 * other load on the machine only ever adds time.
 */
export async function measureFaceDetectorCost(cascade: Cascade): Promise<FaceDetectorCost> {
  const samples = [];
  for (const side of COST_SAMPLE_SIDES_PX) {
    const blank: RgbImage = { width: side, height: side, data: new Uint8Array(side * side * 3) };
    let fastestMs = Number.POSITIVE_INFINITY;
    for (let run = 0; run <= COST_SAMPLE_RUNS; run++) {
      const startedMs = performance.now();
      await cascade.faceDetector.detect(blank);
      // The first run includes one-time allocations inside ONNX Runtime and is left out.
      if (run > 0) fastestMs = Math.min(fastestMs, performance.now() - startedMs);
    }
    samples.push({ pixels: faceInputPixels(side, side), ms: fastestMs });
  }
  return fitFaceDetectorCost(samples[0]!, samples[1]!);
}

function shiftBox(box: BoxXyxyPx, dx: number, dy: number): BoxXyxyPx {
  return dx === 0 && dy === 0 ? box : [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy];
}

function shiftPoint(point: PointPx, dx: number, dy: number): PointPx {
  return dx === 0 && dy === 0 ? point : [point[0] + dx, point[1] + dy];
}
