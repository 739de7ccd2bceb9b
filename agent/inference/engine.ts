// The inference budget the pipeline shares between cameras: a number of slots (frames analysed at
// the same time) and one call to analyse a frame. Which thread runs the models is the engine's choice.
import type { AnalysisRequest, FrameAnalysis, FrameAnalyser } from './frame-analyser.js';

export interface InferenceEngine {
  /** Frames that can be analysed at the same time; the pipeline never sends more. */
  readonly slots: number;
  /** Thread kind that runs the models, for logs and benchmark reports. */
  readonly kind: 'main-thread' | 'worker-threads';
  analyse(request: AnalysisRequest): Promise<FrameAnalysis>;
  close(): Promise<void>;
}

/**
 * Runs the models on the calling thread. One slot only, because onnxruntime-node 1.31 runs
 * `session.run` on the JavaScript thread: a second session on the same thread waits for the first.
 */
export class MainThreadEngine implements InferenceEngine {
  readonly slots = 1;
  readonly kind = 'main-thread';

  constructor(private readonly analyser: FrameAnalyser) {}

  analyse(request: AnalysisRequest): Promise<FrameAnalysis> {
    return this.analyser.analyse(request);
  }

  close(): Promise<void> {
    return this.analyser.close();
  }
}
