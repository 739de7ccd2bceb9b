// Starts the inference engine that the config selects: worker threads, or the main thread when
// inferenceWorkers is 0.
import os from 'node:os';
import type { Logger } from '../../src/common/log.js';
import type { AgentConfig } from '../config.js';
import { MainThreadEngine, type InferenceEngine } from './engine.js';
import { FrameAnalyser } from './frame-analyser.js';
import { WorkerEngine } from './worker-engine.js';

/** Upper bound of 'auto', because each worker keeps its own copy of the five models. */
const MAX_AUTO_WORKERS = 8;

/** Returns the number of workers for the config's inferenceWorkers; 0 means the main thread. */
export function resolveWorkerCount(setting: AgentConfig['inferenceWorkers'], cores = os.availableParallelism()): number {
  return setting === 'auto' ? Math.min(MAX_AUTO_WORKERS, Math.max(1, cores)) : setting;
}

export async function createInferenceEngine(config: Pick<AgentConfig, 'modelsDir' | 'inferenceThreads' | 'inferenceWorkers'>, logger: Logger): Promise<InferenceEngine> {
  const workers = resolveWorkerCount(config.inferenceWorkers);
  if (workers === 0) {
    return new MainThreadEngine(await FrameAnalyser.load(config.modelsDir, { threads: config.inferenceThreads, logger }));
  }
  return WorkerEngine.start({ modelsDir: config.modelsDir, workers, threads: config.inferenceThreads, logger });
}
