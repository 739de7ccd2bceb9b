// Plate detection with plate_detect: input preparation, session run, decoding to source pixels.
import type { RgbImage } from '../image.js';
import { ModelSession, ort, readFloatOutput, type ModelSessionOptions } from '../session.js';
import { preparePlateDetectInput, PLATE_DETECT_INPUT_SIZE_PX } from './plate-detect-input.js';
import { decodePlateDetections, type PlateDetection } from './plate-detect-decode.js';

export interface PlateDetectorOptions {
  /** Objectness a row must exceed, 0.3 by default. */
  objectnessThreshold?: number;
  /** IoU above which a lower-scoring plate is dropped, 0.5 by default. */
  iouThreshold?: number;
}

export class PlateDetector {
  readonly session: ModelSession;

  constructor(session: ModelSession) {
    this.session = session;
  }

  static async load(modelsDir: string, options: ModelSessionOptions = {}): Promise<PlateDetector> {
    const session = await ModelSession.load(modelsDir, 'plate_detect', { inputs: ['input'], outputs: ['output'] }, options);
    return new PlateDetector(session);
  }

  /** Returns plates in `image` with their corners, by descending score. */
  async detect(image: RgbImage, options: PlateDetectorOptions = {}): Promise<PlateDetection[]> {
    const { inputNchwF32, letterboxed } = preparePlateDetectInput(image);
    const size = PLATE_DETECT_INPUT_SIZE_PX;
    const outputs = await this.session.run({ input: new ort.Tensor('float32', inputNchwF32, [1, 3, size, size]) });
    return decodePlateDetections(readFloatOutput(outputs, 'output', 'plate_detect'), {
      letterboxed,
      sourceWidthPx: image.width,
      sourceHeightPx: image.height,
      objectnessThreshold: options.objectnessThreshold ?? 0.3,
      iouThreshold: options.iouThreshold ?? 0.5,
    });
  }
}
