// Postprocessing for plate_rec_color: greedy CTC decoding of the text logits and argmax of the
// colour logits.

/** Output classes of the text head in index order. Index 0 (`#`) is the CTC blank. */
export const PLATE_CHARSET = Array.from(
  '#京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新学警港澳挂使领民航危0123456789ABCDEFGHJKLMNPQRSTUVWXYZ险品',
);

export type PlateColor = 'black' | 'blue' | 'green' | 'white' | 'yellow';

/** Output classes of the colour head in index order. */
export const PLATE_COLORS: readonly PlateColor[] = ['black', 'blue', 'green', 'white', 'yellow'];

export interface CtcDecoded {
  text: string;
  /** Softmax probability of each emitted character: the highest over the time steps it spans. */
  charProbabilities: number[];
}

/**
 * Decodes one plate's [steps, classes] raw logits starting at `offset`: argmax per step, repeats
 * collapsed, blanks dropped.
 */
export function decodeCtcGreedy(logits: Float32Array, offset: number, steps: number, classes: number): CtcDecoded {
  let text = '';
  const charProbabilities: number[] = [];
  let previousClass = 0;
  for (let step = 0; step < steps; step++) {
    const base = offset + step * classes;
    const { index, probability } = argmaxSoftmax(logits, base, classes);
    if (index !== 0 && index === previousClass) {
      const last = charProbabilities.length - 1;
      charProbabilities[last] = Math.max(charProbabilities[last]!, probability);
    } else if (index !== 0) {
      text += PLATE_CHARSET[index] ?? '';
      charProbabilities.push(probability);
    }
    previousClass = index;
  }
  return { text, charProbabilities };
}

/** Returns the argmax of `count` logits starting at `base`, with its softmax probability. */
export function argmaxSoftmax(logits: Float32Array, base: number, count: number): { index: number; probability: number } {
  let index = 0;
  let maxLogit = -Infinity;
  for (let c = 0; c < count; c++) {
    if (logits[base + c]! > maxLogit) {
      maxLogit = logits[base + c]!;
      index = c;
    }
  }
  let denominator = 0;
  for (let c = 0; c < count; c++) denominator += Math.exp(logits[base + c]! - maxLogit);
  return { index, probability: 1 / denominator };
}
