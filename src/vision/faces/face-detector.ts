// Face detection with five landmarks using yunet_n_dynamic: input preparation, run, decoding.
import type { RgbImage } from '../image.js';
import { ModelSession, ort, readFloatOutput, type ModelSessionOptions } from '../session.js';
import { prepareYunetInput } from './yunet-input.js';
import { decodeYunet, YUNET_STRIDES_PX, type FaceDetection, type YunetStrideOutputs } from './yunet-decode.js';

const OUTPUT_NAMES = YUNET_STRIDES_PX.flatMap((s) => [`cls_${s}`, `obj_${s}`, `bbox_${s}`, `kps_${s}`]);

export interface FaceDetectorOptions {
  /** Minimum sqrt(cls * obj), 0.7 by default because at 0.6 a raised hand was taken for a face. */
  scoreThreshold?: number;
  /** IoU above which a lower-scoring face is dropped, 0.3 by default. */
  iouThreshold?: number;
}

export class FaceDetector {
  readonly session: ModelSession;

  constructor(session: ModelSession) {
    this.session = session;
  }

  static async load(modelsDir: string, options: ModelSessionOptions = {}): Promise<FaceDetector> {
    const signature = { inputs: ['input'], outputs: OUTPUT_NAMES };
    return new FaceDetector(await ModelSession.load(modelsDir, 'yunet_n_dynamic', signature, options));
  }

  /** Returns faces in `image` with landmarks in source pixels, by descending score. */
  async detect(image: RgbImage, options: FaceDetectorOptions = {}): Promise<FaceDetection[]> {
    const input = prepareYunetInput(image);
    const tensor = new ort.Tensor('float32', input.inputNchwF32, [1, 3, input.heightPx, input.widthPx]);
    const outputs = await this.session.run({ input: tensor });

    const strides: YunetStrideOutputs[] = YUNET_STRIDES_PX.map((stridePx) => ({
      stridePx,
      cls: readFloatOutput(outputs, `cls_${stridePx}`, 'yunet_n_dynamic'),
      obj: readFloatOutput(outputs, `obj_${stridePx}`, 'yunet_n_dynamic'),
      bbox: readFloatOutput(outputs, `bbox_${stridePx}`, 'yunet_n_dynamic'),
      kps: readFloatOutput(outputs, `kps_${stridePx}`, 'yunet_n_dynamic'),
    }));
    return decodeYunet(strides, {
      inputWidthPx: input.widthPx,
      scale: input.scale,
      scoreThreshold: options.scoreThreshold ?? 0.7,
      iouThreshold: options.iouThreshold ?? 0.3,
    });
  }
}
