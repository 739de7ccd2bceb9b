// Runs the models in worker threads, each with its own sessions, so frames are analysed in parallel
// on several cores. Hands each frame to an idle worker and replaces a worker that dies.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../src/common/log.js';
import { VisionError, type VisionErrorCode } from '../../src/vision/errors.js';
import type { InferenceEngine } from './engine.js';
import type { AnalysisRequest, FrameAnalysis } from './frame-analyser.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

export interface WorkerEngineOptions {
  modelsDir: string;
  workers: number;
  /** ONNX Runtime threads inside one operator, per worker. */
  threads: number;
  logger: Logger;
  /** Wait before a dead worker is replaced, ms. */
  respawnDelayMs?: number;
}

interface Job {
  id: number;
  request: AnalysisRequest;
  resolve: (analysis: FrameAnalysis) => void;
  reject: (error: Error) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  job: Job | null;
}

export class InferenceWorkerError extends Error {
  override readonly name = 'InferenceWorkerError';
  constructor(
    readonly code: 'WORKER_DIED' | 'WORKER_ANALYSIS_FAILED' | 'ENGINE_CLOSED',
    message: string,
  ) {
    super(message);
  }
}

const WORKER_SCRIPT = resolveWorkerScript();

export class WorkerEngine implements InferenceEngine {
  readonly kind = 'worker-threads';
  readonly slots: number;
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextJobId = 1;
  private closed = false;

  private constructor(private readonly options: WorkerEngineOptions) {
    this.slots = options.workers;
  }

  /** Starts the workers and resolves once every one has loaded the models; rejects with the first load error. */
  static async start(options: WorkerEngineOptions): Promise<WorkerEngine> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`workers should be a positive integer, instead got ${options.workers}`);
    }
    const engine = new WorkerEngine(options);
    const startedMs = performance.now();
    const slots = await Promise.allSettled(Array.from({ length: options.workers }, (_, index) => engine.spawn(index)));
    const failure = slots.find((slot): slot is PromiseRejectedResult => slot.status === 'rejected');
    if (failure) {
      await Promise.all(slots.map((slot) => (slot.status === 'fulfilled' ? slot.value.worker.terminate() : undefined)));
      throw failure.reason;
    }
    for (const slot of slots) engine.release((slot as PromiseFulfilledResult<Slot>).value);
    options.logger.info({ workers: options.workers, threads: options.threads, loadMs: Math.round(performance.now() - startedMs) }, 'inference workers ready');
    return engine;
  }

  analyse(request: AnalysisRequest): Promise<FrameAnalysis> {
    if (this.closed) return Promise.reject(new InferenceWorkerError('ENGINE_CLOSED', 'the inference engine is closed; no more frames are analysed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextJobId++, request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new InferenceWorkerError('ENGINE_CLOSED', 'the inference engine closed before this frame was analysed'));
    const slots = [...this.idle];
    this.idle.length = 0;
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const slot = this.idle.shift()!;
      const job = this.queue.shift()!;
      slot.job = job;
      // The pixels are copied once into a buffer of their own, which is then moved to the worker. The
      // caller's buffer may be a view of a larger ffmpeg chunk and stays usable for evidence crops.
      const data = new Uint8Array(job.request.image.data);
      const request: AnalysisRequest = { ...job.request, image: { ...job.request.image, data } };
      slot.worker.postMessage({ type: 'analyse', id: job.id, request } satisfies WorkerRequest, [data.buffer]);
    }
  }

  private release(slot: Slot): void {
    slot.job = null;
    if (this.closed) {
      void slot.worker.terminate();
      return;
    }
    this.idle.push(slot);
    this.dispatch();
  }

  /** Starts one worker and resolves with its slot once its models are loaded. */
  private spawn(index: number): Promise<Slot> {
    const init: WorkerInit = { modelsDir: this.options.modelsDir, threads: this.options.threads };
    const worker = new Worker(WORKER_SCRIPT.code, { eval: WORKER_SCRIPT.eval, workerData: init });
    const slot: Slot = { index, worker, job: null };
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          ready = true;
          resolve(slot);
        } else if (reply.type === 'load-failed') {
          reject(toVisionError(reply.code, reply.message));
        } else {
          this.onReply(slot, reply);
        }
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else this.options.logger.error({ worker: index, err: error.message }, 'inference worker failed');
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new InferenceWorkerError('WORKER_DIED', `inference worker ${index} exited with code ${code} while loading the models`));
        else this.onExit(slot, code);
      });
    });
  }

  private onReply(slot: Slot, reply: Extract<WorkerReply, { type: 'result' | 'failed' }>): void {
    const job = slot.job;
    if (job === null || job.id !== reply.id) return;
    if (reply.type === 'result') job.resolve(reply.analysis);
    else job.reject(new InferenceWorkerError('WORKER_ANALYSIS_FAILED', reply.message));
    this.release(slot);
  }

  /** Fails the frame the worker held and starts a replacement after a delay, so one crash costs one frame. */
  private onExit(slot: Slot, code: number): void {
    const index = this.idle.indexOf(slot);
    if (index >= 0) this.idle.splice(index, 1);
    slot.job?.reject(new InferenceWorkerError('WORKER_DIED', `inference worker ${slot.index} exited with code ${code} during analysis`));
    slot.job = null;
    if (this.closed) return;

    const delayMs = this.options.respawnDelayMs ?? 1000;
    this.options.logger.error({ worker: slot.index, exitCode: code, nextDelayMs: delayMs }, 'inference worker exited; starting a new one');
    setTimeout(() => {
      if (this.closed) return;
      this.spawn(slot.index).then(
        (replacement) => this.release(replacement),
        (error: Error) => this.options.logger.error({ worker: slot.index, err: error.message }, 'inference worker could not be restarted; running with one slot less'),
      );
    }, delayMs);
  }
}

function toVisionError(code: string | null, message: string): Error {
  const visionCodes: readonly string[] = ['MODEL_MISSING', 'MODEL_CORRUPT', 'FILE_NOT_FOUND', 'IMAGE_INVALID', 'VIDEO_INVALID'];
  return code !== null && visionCodes.includes(code) ? new VisionError(code as VisionErrorCode, message) : new Error(message);
}

/**
 * Returns how to start the worker: the compiled .js file when there is one, otherwise a bootstrap
 * that registers tsx inside the worker and imports the .ts source. Node 20 does not apply the
 * parent's `--import tsx` hooks to a worker's entry module, so passing execArgv is not enough.
 */
function resolveWorkerScript(): { code: string; eval: boolean } {
  const compiled = fileURLToPath(new URL('./analysis-worker.js', import.meta.url));
  if (existsSync(compiled)) return { code: compiled, eval: false };
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const source = new URL('./analysis-worker.ts', import.meta.url).href;
  return { code: `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`, eval: true };
}
