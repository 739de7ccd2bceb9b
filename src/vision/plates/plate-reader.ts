// Plate text and colour reading with plate_rec_color on rectified plate images, batched.
import type { RgbImage } from '../image.js';
import { ModelSession, ort, readFloatOutput, type ModelSessionOptions } from '../session.js';
import { PLATE_READ_HEIGHT_PX, PLATE_READ_WIDTH_PX, preparePlateReadBatch } from './plate-read-input.js';
import { argmaxSoftmax, decodeCtcGreedy, PLATE_COLORS, type PlateColor } from './plate-read-decode.js';

export interface PlateReading {
  text: string;
  /** Lowest per-character probability, 0 for an empty read. */
  confidence: number;
  color: PlateColor;
  colorProbability: number;
}

const TEXT_OUTPUT = 'output';
const COLOR_OUTPUT = '126';

export class PlateReader {
  readonly session: ModelSession;

  constructor(session: ModelSession) {
    this.session = session;
  }

  static async load(modelsDir: string, options: ModelSessionOptions = {}): Promise<PlateReader> {
    const signature = { inputs: ['input'], outputs: [TEXT_OUTPUT, COLOR_OUTPUT] };
    return new PlateReader(await ModelSession.load(modelsDir, 'plate_rec_color', signature, options));
  }

  /** Reads every rectified plate (single-row layout) in one batched run. */
  async read(plates: readonly RgbImage[]): Promise<PlateReading[]> {
    if (plates.length === 0) return [];
    const batchNchwF32 = preparePlateReadBatch(plates);
    const shape = [plates.length, 3, PLATE_READ_HEIGHT_PX, PLATE_READ_WIDTH_PX];
    const outputs = await this.session.run({ input: new ort.Tensor('float32', batchNchwF32, shape) });

    const textLogits = readFloatOutput(outputs, TEXT_OUTPUT, 'plate_rec_color');
    const colorLogits = readFloatOutput(outputs, COLOR_OUTPUT, 'plate_rec_color');
    const [, steps = 0, classes = 0] = outputs[TEXT_OUTPUT]!.dims;
    const colorCount = PLATE_COLORS.length;

    return plates.map((_, index) => {
      const decoded = decodeCtcGreedy(textLogits, index * steps * classes, steps, classes);
      const color = argmaxSoftmax(colorLogits, index * colorCount, colorCount);
      return {
        text: decoded.text,
        confidence: decoded.charProbabilities.length > 0 ? Math.min(...decoded.charProbabilities) : 0,
        color: PLATE_COLORS[color.index]!,
        colorProbability: color.probability,
      };
    });
  }
}
