// Bare session.run throughput for the agent bench: records the model runs the pipeline's analysis
// makes on sample frames, then replays only those session.run calls in worker threads.
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { FrameAnalyser, type AnalysisRequest } from '../agent/inference/frame-analyser.js';
import type { ModelName } from '../src/vision/session.js';
import type { ort } from '../src/vision/session.js';

/** One recorded session.run: the model and its input tensors, as plain data that can cross threads. */
export interface RecordedRun {
  model: ModelName;
  feeds: Record<string, { type: 'float32'; data: Float32Array; dims: readonly number[] }>;
}

/** Analyses each request on the main thread and returns the session.run calls made, per frame. */
export async function recordSessionRuns(modelsDir: string, requests: readonly AnalysisRequest[]): Promise<RecordedRun[][]> {
  const analyser = await FrameAnalyser.load(modelsDir, { logger: pino({ level: 'silent' }) });
  let current: RecordedRun[] = [];
  for (const session of analyser.cascade.sessions) {
    const run = session.run.bind(session);
    session.run = (feeds: Record<string, ort.Tensor>) => {
      const copied: RecordedRun['feeds'] = {};
      for (const [name, tensor] of Object.entries(feeds)) copied[name] = { type: 'float32', data: new Float32Array(tensor.data as Float32Array), dims: [...tensor.dims] };
      current.push({ model: session.model, feeds: copied });
      return run(feeds);
    };
  }
  const perFrame: RecordedRun[][] = [];
  for (const request of requests) {
    current = [];
    await analyser.analyse(request);
    perFrame.push(current);
  }
  await analyser.close();
  return perFrame;
}

/**
 * Replays the recorded runs in `workers` threads, frames dealt out in turn, each thread with its own
 * sessions (one operator thread each, as the agent's). Returns frames per second of wall time.
 */
export async function measureBareThroughput(modelsDir: string, perFrame: RecordedRun[][], workers: number): Promise<number> {
  const shares = Array.from({ length: workers }, (_, w) => perFrame.filter((_, index) => index % workers === w).flat());
  const threads = await Promise.all(shares.map(() => startBareWorker(modelsDir)));
  // Each thread builds its tensors and warms its sessions before the clock starts.
  await Promise.all(threads.map((thread, w) => thread.send({ type: 'prepare', runs: shares[w]! }, 'warm')));
  const startedMs = performance.now();
  await Promise.all(threads.map((thread) => thread.send({ type: 'go' }, 'done')));
  const elapsedSec = (performance.now() - startedMs) / 1000;
  await Promise.all(threads.map((thread) => thread.worker.terminate()));
  return perFrame.length / elapsedSec;
}

const ORT_URL = import.meta.resolve('onnxruntime-node');
const BARE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.ortUrl).then(async (ort) => {
  const sessions = {};
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  for (const model of workerData.models) sessions[model] = await ort.InferenceSession.create(workerData.modelsDir + '/' + model + '.onnx', options);
  parentPort.postMessage('ready');
  let prepared = [];
  parentPort.on('message', async (message) => {
    if (message.type === 'prepare') {
      prepared = message.runs.map((r) => ({ session: sessions[r.model], feeds: Object.fromEntries(Object.entries(r.feeds).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.dims)])) }));
      for (const r of prepared.slice(0, 5)) await r.session.run(r.feeds);
      parentPort.postMessage('warm');
      return;
    }
    for (const r of prepared) await r.session.run(r.feeds);
    parentPort.postMessage('done');
  });
});
`;

const MODELS: readonly ModelName[] = ['yolox_nano', 'plate_detect', 'plate_rec_color', 'yunet_n_dynamic', 'mobilefacenet'];

interface BareThread {
  worker: Worker;
  /** Posts a message and resolves when the thread replies with `reply`. */
  send(message: { type: 'prepare'; runs: RecordedRun[] } | { type: 'go' }, reply: 'warm' | 'done'): Promise<void>;
}

async function startBareWorker(modelsDir: string): Promise<BareThread> {
  const worker = new Worker(BARE_WORKER, { eval: true, workerData: { ortUrl: ORT_URL, modelsDir, models: MODELS } });
  const send: BareThread['send'] = (message, reply) =>
    new Promise((resolve, reject) => {
      const onMessage = (answer: string) => {
        if (answer !== reply) return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.postMessage(message);
    });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return { worker, send };
}
