// Face embeddings with mobilefacenet: one aligned face per run (the model's batch size is fixed
// at 1), L2-normalised so that the dot product of two embeddings is their cosine similarity.
import type { RgbImage } from '../image.js';
import { ModelSession, ort, readFloatOutput, type ModelSessionOptions } from '../session.js';
import { ALIGNED_FACE_SIZE_PX } from './align.js';
import { prepareEmbedInput } from './embed-input.js';

export const EMBEDDING_LENGTH = 128;

export class FaceEmbedder {
  readonly session: ModelSession;

  constructor(session: ModelSession) {
    this.session = session;
  }

  static async load(modelsDir: string, options: ModelSessionOptions = {}): Promise<FaceEmbedder> {
    const signature = { inputs: ['input'], outputs: ['output'] };
    return new FaceEmbedder(await ModelSession.load(modelsDir, 'mobilefacenet', signature, options));
  }

  /** Returns the L2-normalised 128-d embedding of an aligned 112x112 face. */
  async embed(alignedFace: RgbImage): Promise<Float32Array> {
    const size = ALIGNED_FACE_SIZE_PX;
    const input = new ort.Tensor('float32', prepareEmbedInput(alignedFace), [1, 3, size, size]);
    const outputs = await this.session.run({ input });
    const raw = readFloatOutput(outputs, 'output', 'mobilefacenet');
    return l2Normalise(raw.slice(0, EMBEDDING_LENGTH));
  }
}

/** Scales `vector` in place to unit length and returns it. A zero vector stays zero. */
export function l2Normalise(vector: Float32Array): Float32Array {
  let sumOfSquares = 0;
  for (const value of vector) sumOfSquares += value * value;
  const norm = Math.sqrt(sumOfSquares);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

/** Cosine similarity of two L2-normalised embeddings. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) dot += a[i]! * b[i]!;
  return dot;
}
