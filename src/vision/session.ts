// One ONNX Runtime session per model file: loading with fixed threading options, checking the
// input and output names, running, and timing each run. Tensors are built and read elsewhere.
import { access } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { VisionError } from './errors.js';

/** Model files the cascade loads, named after `<modelsDir>/<name>.onnx`. */
export type ModelName = 'yolox_nano' | 'yunet_n_dynamic' | 'mobilefacenet' | 'plate_detect' | 'plate_rec_color';

/** Called after every run with the model name and the wall-clock duration of `session.run`. */
export type ModelRunListener = (model: ModelName, durationMs: number) => void;

export interface ModelSignature {
  inputs: readonly string[];
  outputs: readonly string[];
}

export interface ModelSessionOptions {
  /** Threads inside one operator, 1 by default so that one frame's inference uses one core. */
  intraOpNumThreads?: number;
}

const INSTALL_HINT = 'run `npm run models:install` to download and verify the models';

export class ModelSession {
  readonly model: ModelName;
  readonly filePath: string;
  /** Duration of the most recent run in ms, or NaN before the first run. */
  lastRunMs = Number.NaN;
  private readonly session: ort.InferenceSession;
  private readonly listeners = new Set<ModelRunListener>();

  private constructor(model: ModelName, filePath: string, session: ort.InferenceSession) {
    this.model = model;
    this.filePath = filePath;
    this.session = session;
  }

  /**
   * Loads `<modelsDir>/<model>.onnx` and checks that it has every input and output in `signature`.
   * Throws VisionError MODEL_MISSING when the file does not exist and MODEL_CORRUPT when ONNX
   * Runtime cannot load it or its names differ.
   */
  static async load(
    modelsDir: string,
    model: ModelName,
    signature: ModelSignature,
    options: ModelSessionOptions = {},
  ): Promise<ModelSession> {
    const filePath = path.join(modelsDir, `${model}.onnx`);
    try {
      await access(filePath);
    } catch (error) {
      throw new VisionError('MODEL_MISSING', `model file not found: ${filePath}; ${INSTALL_HINT}`, { cause: error });
    }

    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(filePath, {
        intraOpNumThreads: options.intraOpNumThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new VisionError('MODEL_CORRUPT', `cannot load model file ${filePath} (${reason}); ${INSTALL_HINT}`, {
        cause: error,
      });
    }

    checkSignature(filePath, session, signature);
    return new ModelSession(model, filePath, session);
  }

  /** Runs the model, records `lastRunMs` and notifies the run listeners. */
  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const startedMs = performance.now();
    const outputs = await this.session.run(feeds);
    this.lastRunMs = performance.now() - startedMs;
    for (const listener of this.listeners) listener(this.model, this.lastRunMs);
    return outputs;
  }

  /** Registers a listener for run durations and returns a function that removes it. */
  addRunListener(listener: ModelRunListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function checkSignature(filePath: string, session: ort.InferenceSession, signature: ModelSignature): void {
  const missingInputs = signature.inputs.filter((name) => !session.inputNames.includes(name));
  const missingOutputs = signature.outputs.filter((name) => !session.outputNames.includes(name));
  if (missingInputs.length === 0 && missingOutputs.length === 0) return;

  const found = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
  const missing = [...missingInputs.map((n) => `input ${n}`), ...missingOutputs.map((n) => `output ${n}`)];
  throw new VisionError(
    'MODEL_CORRUPT',
    `model file ${filePath} is not the expected model: missing ${missing.join(', ')}; found ${found}; ${INSTALL_HINT}`,
  );
}

/** Returns the tensor named `name` as float32 data, or throws MODEL_CORRUPT. */
export function readFloatOutput(outputs: Record<string, ort.Tensor>, name: string, model: ModelName): Float32Array {
  const tensor = outputs[name];
  if (!tensor || !(tensor.data instanceof Float32Array)) {
    throw new VisionError('MODEL_CORRUPT', `model ${model} returned no float32 output named ${name}; ${INSTALL_HINT}`);
  }
  return tensor.data;
}

export { ort };
