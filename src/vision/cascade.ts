// The vision cascade for one frame: people and vehicles, Chinese plates, and faces with embeddings.
// Owns the five model sessions. Each stage's pre- and postprocessing lives in its own folder.
import { createLogger, type Logger } from '../common/log.js';
import { alignFace } from './faces/align.js';
import { FaceDetector } from './faces/face-detector.js';
import { FaceEmbedder } from './faces/face-embedder.js';
import { analyzeFaces, type DetectedFace } from './faces/face-pipeline.js';
import type { RgbImage } from './image.js';
import { ObjectDetector } from './objects/object-detector.js';
import type { DetectedObject, ObjectLabel } from './objects/yolox-decode.js';
import { PlateDetector } from './plates/plate-detector.js';
import { recognizePlates, type PlateRead } from './plates/plate-pipeline.js';
import { PlateReader } from './plates/plate-reader.js';
import type { ModelRunListener, ModelSession } from './session.js';

export type { DetectedFace } from './faces/face-pipeline.js';
export type { DetectedObject, ObjectLabel } from './objects/yolox-decode.js';
export type { PlateRead } from './plates/plate-pipeline.js';

export interface AnalyzeOptions {
  /** Detect people and vehicles (default true). */
  objects?: boolean;
  /** Read plates (default true). 'gated' reads them only when a car, bus, truck or motorcycle was found. */
  plates?: boolean | 'gated';
  /** Detect faces (default true). 'gated' detects them only when a person was found. */
  faces?: boolean | 'gated';
  /** Add an embedding to every detected face (default false). */
  embed?: boolean;
}

export interface Analysis {
  width: number;
  height: number;
  objects: DetectedObject[];
  plates: PlateRead[];
  faces: DetectedFace[];
  /** Plate detections whose text fits no plate format, so they are not in `plates`. */
  rejectedPlateReads: number;
  /** Wall-clock time of each stage, including pre- and postprocessing, or 0 when it did not run. */
  timingsMs: { objects: number; plates: number; faces: number; embeddings: number };
}

const VEHICLES_WITH_PLATES: ReadonlySet<ObjectLabel> = new Set(['car', 'bus', 'truck', 'motorcycle']);

export class Cascade {
  readonly objectDetector: ObjectDetector;
  readonly plateDetector: PlateDetector;
  readonly plateReader: PlateReader;
  readonly faceDetector: FaceDetector;
  readonly faceEmbedder: FaceEmbedder;

  constructor(parts: {
    objectDetector: ObjectDetector;
    plateDetector: PlateDetector;
    plateReader: PlateReader;
    faceDetector: FaceDetector;
    faceEmbedder: FaceEmbedder;
  }) {
    this.objectDetector = parts.objectDetector;
    this.plateDetector = parts.plateDetector;
    this.plateReader = parts.plateReader;
    this.faceDetector = parts.faceDetector;
    this.faceEmbedder = parts.faceEmbedder;
  }

  /**
   * Loads the five models from `<modelsDir>/<name>.onnx`. `threads` sets ONNX Runtime's threads
   * inside one operator (1 by default). Throws VisionError MODEL_MISSING or MODEL_CORRUPT.
   */
  static async load(modelsDir: string, options: { threads?: number; logger?: Logger } = {}): Promise<Cascade> {
    const log = options.logger ?? createLogger('vision');
    const startedMs = performance.now();
    const sessionOptions = { intraOpNumThreads: options.threads ?? 1 };
    const cascade = new Cascade({
      objectDetector: await ObjectDetector.load(modelsDir, sessionOptions),
      plateDetector: await PlateDetector.load(modelsDir, sessionOptions),
      plateReader: await PlateReader.load(modelsDir, sessionOptions),
      faceDetector: await FaceDetector.load(modelsDir, sessionOptions),
      faceEmbedder: await FaceEmbedder.load(modelsDir, sessionOptions),
    });
    log.info({ modelsDir, threads: sessionOptions.intraOpNumThreads, loadMs: Math.round(performance.now() - startedMs) }, 'vision models loaded');
    return cascade;
  }

  /** The sessions in cascade order, for latency measurement. */
  get sessions(): ModelSession[] {
    return [
      this.objectDetector.session,
      this.plateDetector.session,
      this.plateReader.session,
      this.faceDetector.session,
      this.faceEmbedder.session,
    ];
  }

  /** Registers `listener` on every model session and returns a function that removes it again. */
  addRunListener(listener: ModelRunListener): () => void {
    const removers = this.sessions.map((session) => session.addRunListener(listener));
    return () => removers.forEach((remove) => remove());
  }

  /** Runs the requested stages on one frame. Gated stages make the object stage run. */
  async analyze(image: RgbImage, options: AnalyzeOptions = {}): Promise<Analysis> {
    const platesOption = options.plates ?? true;
    const facesOption = options.faces ?? true;
    const gated = platesOption === 'gated' || facesOption === 'gated';
    const analysis: Analysis = {
      width: image.width,
      height: image.height,
      objects: [],
      plates: [],
      faces: [],
      rejectedPlateReads: 0,
      timingsMs: { objects: 0, plates: 0, faces: 0, embeddings: 0 },
    };

    if ((options.objects ?? true) || gated) {
      const startedMs = performance.now();
      analysis.objects = await this.objectDetector.detect(image);
      analysis.timingsMs.objects = performance.now() - startedMs;
    }

    const vehicleFound = analysis.objects.some((o) => VEHICLES_WITH_PLATES.has(o.label));
    if (platesOption === true || (platesOption === 'gated' && vehicleFound)) {
      const startedMs = performance.now();
      const result = await recognizePlates(this.plateDetector, this.plateReader, image);
      analysis.plates = result.plates;
      analysis.rejectedPlateReads = result.rejectedReads;
      analysis.timingsMs.plates = performance.now() - startedMs;
    }

    const personFound = analysis.objects.some((o) => o.label === 'person');
    if (facesOption === true || (facesOption === 'gated' && personFound)) {
      const embedder = options.embed ? this.faceEmbedder : null;
      const result = await analyzeFaces(this.faceDetector, embedder, image);
      analysis.faces = result.faces;
      analysis.timingsMs.faces = result.timingsMs.faces;
      analysis.timingsMs.embeddings = result.timingsMs.embeddings;
    }
    return analysis;
  }

  /** Aligns one detected face by its landmarks and returns its L2-normalised embedding. */
  async embedFace(image: RgbImage, face: Pick<DetectedFace, 'landmarks'>): Promise<Float32Array> {
    return this.faceEmbedder.embed(alignFace(image, face.landmarks));
  }

  async close(): Promise<void> {
    for (const session of this.sessions) await session.release();
  }
}
