// Messages between WorkerEngine (main thread) and analysis-worker.ts. Images and analyses cross
// the thread boundary by structured clone; the image's pixel buffer is transferred, not copied.
import type { AnalysisRequest, FrameAnalysis } from './frame-analyser.js';

export interface WorkerInit {
  modelsDir: string;
  /** ONNX Runtime threads inside one operator. */
  threads: number;
}

export type WorkerRequest = { type: 'analyse'; id: number; request: AnalysisRequest };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'load-failed'; code: string | null; message: string }
  | { type: 'result'; id: number; analysis: FrameAnalysis }
  | { type: 'failed'; id: number; code: string | null; message: string };
