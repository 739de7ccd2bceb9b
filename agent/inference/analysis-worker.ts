// Worker thread body: loads its own copy of the models and analyses the frames the WorkerEngine
// posts to it, one at a time. Messages are typed in worker-messages.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { VisionError } from '../../src/vision/errors.js';
import { FrameAnalyser } from './frame-analyser.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('analysis-worker.ts runs only as a worker thread of WorkerEngine');
  const init = workerData as WorkerInit;
  const post = (reply: WorkerReply) => port.postMessage(reply);

  let analyser: FrameAnalyser;
  try {
    analyser = await FrameAnalyser.load(init.modelsDir, { threads: init.threads, logger: pino({ level: 'silent' }) });
  } catch (error) {
    post({ type: 'load-failed', ...describe(error) });
    return;
  }
  post({ type: 'ready' });

  // The engine ends this thread with terminate(); there is no close message.
  port.on('message', (message: WorkerRequest) => {
    analyser.analyse(message.request).then(
      (analysis) => post({ type: 'result', id: message.id, analysis }),
      (error: unknown) => post({ type: 'failed', id: message.id, ...describe(error) }),
    );
  });
}

function describe(error: unknown): { code: string | null; message: string } {
  if (error instanceof VisionError) return { code: error.code, message: error.message };
  return { code: null, message: error instanceof Error ? error.message : String(error) };
}

void main();
