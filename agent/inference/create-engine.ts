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

/**
 * Returns the number of workers for the config's inferenceWorkers; 0 means the main thread. 'auto'
 * is one worker per core because that was fastest in `npx tsx bench/agent.ts --engines` on a 2-core
 * VM: 2 workers analysed 38-44 frames/s, 3 workers 38-42, the main thread 23-26, a pool of two
 * sessions on the main thread 21-27 (session.run blocks the calling thread), and one session with
 * two operator threads 11-14.
 */
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
