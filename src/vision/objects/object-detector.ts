// People and vehicle detection with yolox_nano: input preparation, session run, decoding.
import type { RgbImage } from '../image.js';
import { ModelSession, ort, readFloatOutput, type ModelSessionOptions } from '../session.js';
import { prepareYoloxInput, YOLOX_INPUT_SIZE_PX } from './yolox-input.js';
import { decodeYolox, type DetectedObject } from './yolox-decode.js';

export interface ObjectDetectorOptions {
  /** Minimum objectness x class score, 0.35 by default. */
  scoreThreshold?: number;
  /** IoU above which a lower-scoring box of the same class is dropped, 0.45 by default. */
  iouThreshold?: number;
}

export class ObjectDetector {
  readonly session: ModelSession;

  constructor(session: ModelSession) {
    this.session = session;
  }

  static async load(modelsDir: string, options: ModelSessionOptions = {}): Promise<ObjectDetector> {
    const session = await ModelSession.load(modelsDir, 'yolox_nano', { inputs: ['images'], outputs: ['output'] }, options);
    return new ObjectDetector(session);
  }

  /** Returns people and vehicles in `image`, boxes in source pixels, by descending score. */
  async detect(image: RgbImage, options: ObjectDetectorOptions = {}): Promise<DetectedObject[]> {
    const { inputNchwF32, letterboxed } = prepareYoloxInput(image);
    const size = YOLOX_INPUT_SIZE_PX;
    const outputs = await this.session.run({ images: new ort.Tensor('float32', inputNchwF32, [1, 3, size, size]) });
    return decodeYolox(readFloatOutput(outputs, 'output', 'yolox_nano'), {
      inputSizePx: size,
      scale: letterboxed.scale,
      sourceWidthPx: image.width,
      sourceHeightPx: image.height,
      scoreThreshold: options.scoreThreshold ?? 0.35,
      iouThreshold: options.iouThreshold ?? 0.45,
    });
  }
}
