// `npx tsx bench/agent.ts --engines`: ways to run the models on the same camera frames, saturated,
// and the cost of plate and face search in vehicle and person regions against the whole frame.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { MainThreadEngine, type InferenceEngine } from '../agent/inference/engine.js';
import { headRegion } from '../agent/inference/face-regions.js';
import { FrameAnalyser, type AnalysisRequest } from '../agent/inference/frame-analyser.js';
import { WorkerEngine } from '../agent/inference/worker-engine.js';
import { projectRoot } from '../src/assets/paths.js';
import { loadDemoConfig } from '../src/demo/config.js';
import { cropImage } from '../src/vision/image.js';
import { recognizePlates } from '../src/vision/plates/plate-pipeline.js';
import { CpuMeter } from './agent-cpu.js';

const silent = pino({ level: 'silent' });
const FRAMES_PER_CLIP = 6;

export interface EngineComparisonOptions {
  modelsDir: string;
  clipsDir: string;
  print: (line: string) => void;
  /** Passes over all setups, interleaved, so that load from other processes hits each setup alike. */
  rounds?: number;
}

/** Decodes frames spread over each demo clip at the size the demo's cameras use. */
function sampleRequests(clipsDir: string): AnalysisRequest[] {
  const demo = loadDemoConfig(path.join(projectRoot(), 'config', 'demo.json'));
  const requests: AnalysisRequest[] = [];
  for (const camera of demo.cameras) {
    const platesOnly = camera.analyses.length === 1 && camera.analyses[0] === 'plates';
    const [width, height] = platesOnly ? [1280, 720] : [640, 360];
    const args = ['-v', 'error', '-f', 'h264', '-framerate', '25', '-i', path.join(clipsDir, `${camera.id}.h264`), '-vf', `fps=0.6,scale=${width}:${height}`, '-frames:v', String(FRAMES_PER_CLIP), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
    const result = spawnSync('ffmpeg', args, { maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`ffmpeg could not decode ${camera.id}.h264: ${result.stderr.toString().trim()}; run \`npm run demo -- --once\` to make the clips`);
    const frameBytes = width * height * 3;
    for (let offset = 0; offset + frameBytes <= result.stdout.length; offset += frameBytes) {
      requests.push({ image: { width, height, data: new Uint8Array(result.stdout.subarray(offset, offset + frameBytes)) }, analyses: camera.analyses, roiPx: null });
    }
  }
  return requests;
}

/** Analyses every request twice with all slots busy; returns frames per second. */
async function saturate(engines: InferenceEngine[], requests: AnalysisRequest[]): Promise<number> {
  const slots = engines.flatMap((engine) => Array.from({ length: engine.slots }, () => engine));
  await Promise.all(slots.map((engine, i) => engine.analyse(requests[i % requests.length]!)));
  const total = requests.length * 2;
  let next = 0;
  const startedMs = performance.now();
  await Promise.all(
    slots.map(async (engine) => {
      while (next < total) await engine.analyse(requests[next++ % requests.length]!);
    }),
  );
  return total / ((performance.now() - startedMs) / 1000);
}

interface EngineSetup {
  label: string;
  start: (modelsDir: string) => Promise<InferenceEngine[]>;
}

const SETUPS: EngineSetup[] = [
  { label: 'main thread, 1 operator thread', start: async (dir) => [new MainThreadEngine(await FrameAnalyser.load(dir, { logger: silent }))] },
  { label: 'main thread, 2 operator threads', start: async (dir) => [new MainThreadEngine(await FrameAnalyser.load(dir, { threads: 2, logger: silent }))] },
  {
    label: 'pool of 2 sessions, main thread',
    start: async (dir) => [new MainThreadEngine(await FrameAnalyser.load(dir, { logger: silent })), new MainThreadEngine(await FrameAnalyser.load(dir, { logger: silent }))],
  },
  { label: '1 worker thread', start: async (dir) => [await WorkerEngine.start({ modelsDir: dir, workers: 1, threads: 1, logger: silent })] },
  { label: '2 worker threads', start: async (dir) => [await WorkerEngine.start({ modelsDir: dir, workers: 2, threads: 1, logger: silent })] },
  { label: '3 worker threads', start: async (dir) => [await WorkerEngine.start({ modelsDir: dir, workers: 3, threads: 1, logger: silent })] },
];

export async function compareEngines(options: EngineComparisonOptions): Promise<void> {
  const requests = sampleRequests(options.clipsDir);
  options.print(`## engines: ${requests.length} frames of the 9 demo clips, analysed twice with every slot busy`);
  for (let round = 0; round < (options.rounds ?? 1); round++) {
    for (const setup of SETUPS) await measureSetup(setup, options, requests);
  }
  await compareRegions(options, requests);
}

async function measureSetup(setup: EngineSetup, options: EngineComparisonOptions, requests: AnalysisRequest[]): Promise<void> {
  const engines = await setup.start(options.modelsDir);
  const loadStart = os.loadavg()[0]!;
  const cpu = new CpuMeter();
  const fps = await saturate(engines, requests);
  const { agent, others } = cpu.percentOfOneCore();
  options.print(`${setup.label.padEnd(34)} ${fps.toFixed(1).padStart(6)} frames/s   CPU ${agent.toFixed(0)} %, others ${others.toFixed(0)} %   load ${loadStart.toFixed(2)}/${os.loadavg()[0]!.toFixed(2)}`);
  await Promise.all(engines.map((engine) => engine.close()));
}

/** Times plate and face search on the whole frame against one search per vehicle or person region. */
async function compareRegions(options: EngineComparisonOptions, requests: AnalysisRequest[]): Promise<void> {
  const analyser = await FrameAnalyser.load(options.modelsDir, { logger: silent });
  const { cascade } = analyser;
  const plates = { whole: [] as number[], regions: [] as number[] };
  const faces = { whole: [] as number[], regions: [] as number[] };
  for (const request of requests) {
    const objects = await cascade.objectDetector.detect(request.image);
    const vehicles = objects.filter((o) => ['car', 'bus', 'truck', 'motorcycle'].includes(o.label)).map((o) => o.box);
    const people = objects.filter((o) => o.label === 'person').map((o) => o.box);
    if (request.analyses.includes('plates') && vehicles.length > 0) {
      plates.whole.push(await timeMs(() => recognizePlates(cascade.plateDetector, cascade.plateReader, request.image)));
      plates.regions.push(await timeMs(async () => {
        for (const box of vehicles) await recognizePlates(cascade.plateDetector, cascade.plateReader, cropImage(request.image, box));
      }));
    }
    if (request.analyses.includes('faces') && people.length > 0) {
      faces.whole.push(await timeMs(() => cascade.faceDetector.detect(request.image)));
      faces.regions.push(await timeMs(async () => {
        for (const box of people) await cascade.faceDetector.detect(cropImage(request.image, headRegion(box, request.image.width, request.image.height)));
      }));
    }
  }
  await analyser.close();
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  options.print(`## regions (mean ms per frame, load ${os.loadavg()[0]!.toFixed(2)})`);
  options.print(`plates: whole frame ${mean(plates.whole).toFixed(1)}, one search per vehicle ${mean(plates.regions).toFixed(1)} (${plates.whole.length} frames with vehicles)`);
  options.print(`faces: whole frame ${mean(faces.whole).toFixed(1)}, one search per head area ${mean(faces.regions).toFixed(1)} (${faces.whole.length} frames with people)`);
}

async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const startedMs = performance.now();
  await work();
  return performance.now() - startedMs;
}

