// `npx tsx bench/agent.ts`: the on-car pipeline under 1, 3 and 9 RTSP cameras (the demo clips served
// by GStreamer), each run bounded in time: analysed fps per camera, dropped %, CPU %, latency, and
// throughput against bare session.run on the same frames. --engines compares ways to run the models.
import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { createCameraSource } from '../agent/capture/camera-source.js';
import { parseAgentConfig, type CameraConfig } from '../agent/config.js';
import { MainThreadEngine, type InferenceEngine } from '../agent/inference/engine.js';
import { FrameAnalyser, type AnalysisRequest } from '../agent/inference/frame-analyser.js';
import { WorkerEngine } from '../agent/inference/worker-engine.js';
import { AgentMetrics } from '../agent/metrics.js';
import type { CarMatch, HitHook } from '../agent/pipeline/hit-hook.js';
import { FramePipeline, roiPixels, type PipelineFrame } from '../agent/pipeline/frame-pipeline.js';
import { Outbox } from '../agent/uplink/outbox.js';
import { projectRoot } from '../src/assets/paths.js';
import { percentile } from '../src/common/stats.js';
import { loadDemoConfig, type DemoConfig } from '../src/demo/config.js';
import { normalisePlateText } from '../src/matching/hotlist.js';
import { cosineSimilarity } from '../src/vision/faces/face-embedder.js';
import { decodeImageFile } from '../src/vision/image.js';
import { startRtspCameras } from '../src/video/rtsp-server.js';
import { measureBareThroughput, recordSessionRuns } from './agent-bare.js';
import { CpuMeter } from './agent-cpu.js';

export interface AgentBenchOptions {
  print: (line: string) => void;
  modelsDir: string;
  /** Folder with the faces fixtures, for the watchlist photo of the bench's matcher. */
  fixturesDir: string;
  /** Folder with the demo clips made by `npm run demo -- --once`. */
  clipsDir?: string;
  cameraCounts?: number[];
  /** Measured time per run after the warm-up, s. */
  durationSec?: number;
  warmupSec?: number;
  analysisFps?: number;
  /** Worker threads; 0 runs the models on the main thread. */
  workers?: number;
  logger?: Logger;
}

export interface AgentBenchRun {
  cameras: number;
  workers: number;
  durationSec: number;
  /** Analysed frames per second of each camera: mean and lowest. */
  analysedFps: { mean: number; min: number };
  /** Frames dropped by the scheduler, % of frames read. */
  droppedPct: number;
  /** CPU time of this process (with its worker threads) and its ffmpeg children, % of one core. */
  cpuPct: number;
  /** CPU time of every other process in the same window, % of one core: other load that skews timings. */
  otherCpuPct: number;
  /** Frame read until its results were tracked and its events committed, ms. */
  frameToDoneMs: { p50: number; p99: number; samples: number };
  /**
   * Frame read until a hit event was committed, ms, over the whole run: a hit goes out on a track's
   * first matching read, so the measured window alone has few of them.
   */
  frameToHitMs: { p50: number; p99: number; samples: number };
  pipelineFps: number;
  bareFps: number;
  /** pipelineFps / bareFps; below 1 where the cameras ask for fewer frames than the models could take. */
  throughputRatio: number;
  loadAverage: { start: number; end: number };
}

const DEMO_CONFIG = path.join(projectRoot(), 'config', 'demo.json');
/** Frames kept per camera for the bare session.run measurement. */
const BARE_SAMPLE_FRAMES = 8;
const silent = pino({ level: 'silent' });

/** Runs the pipeline bench for each camera count and prints one line per run. */
export async function runAgentBench(options: AgentBenchOptions): Promise<AgentBenchRun[]> {
  const demo = loadDemoConfig(DEMO_CONFIG);
  const clipsDir = options.clipsDir ?? path.join(projectRoot(), 'var', 'demo', 'clips');
  const hook = await createBenchHook(options.modelsDir, options.fixturesDir, demo);
  const runs: AgentBenchRun[] = [];
  options.print('cameras workers  fps/cam mean (min)  dropped  CPU % (others)  frame→done p50/p99 ms  frame→hit p50/p99 ms (n)  pipeline/bare fps  load start/end');
  for (const cameras of options.cameraCounts ?? [1, 3, 9]) {
    const run = await benchCameras(cameras, clipsDir, demo, hook, options);
    runs.push(run);
    options.print(formatRun(run));
  }
  return runs;
}

function formatRun(run: AgentBenchRun): string {
  const fps = `${run.analysedFps.mean.toFixed(2)} (${run.analysedFps.min.toFixed(2)})`;
  const done = `${Math.round(run.frameToDoneMs.p50)}/${Math.round(run.frameToDoneMs.p99)}`;
  const hit = `${Math.round(run.frameToHitMs.p50)}/${Math.round(run.frameToHitMs.p99)} (${run.frameToHitMs.samples})`;
  const ratio = `${run.pipelineFps.toFixed(1)}/${run.bareFps.toFixed(1)} = ${run.throughputRatio.toFixed(2)}`;
  return `${String(run.cameras).padStart(7)} ${String(run.workers).padStart(7)}  ${fps.padEnd(18)}  ${run.droppedPct.toFixed(1).padStart(6)}%  ${`${run.cpuPct.toFixed(0)} (${run.otherCpuPct.toFixed(0)})`.padStart(13)}  ${done.padEnd(21)}  ${hit.padEnd(24)}  ${ratio.padEnd(17)}  ${run.loadAverage.start.toFixed(2)}/${run.loadAverage.end.toFixed(2)}`;
}

/**
 * Builds a matcher like the car's: the demo hotlist by exact text and the demo watchlist subject by
 * cosine similarity, so hits are sent at once as on a car with lists.
 */
async function createBenchHook(modelsDir: string, fixturesDir: string, demo: DemoConfig): Promise<HitHook> {
  const analyser = await FrameAnalyser.load(modelsDir, { logger: silent });
  const subjects: Array<{ key: string; embedding: Float32Array }> = [];
  for (const subject of demo.watchlist) {
    const photo = await decodeImageFile(path.join(fixturesDir, subject.photos[0]!));
    const face = (await analyser.cascade.analyze(photo, { objects: false, plates: false, faces: true, embed: true })).faces[0];
    if (face?.embedding) subjects.push({ key: `face:${subject.subjectId}`, embedding: face.embedding });
  }
  await analyser.close();
  const plates = new Set(demo.hotlist.map((entry) => normalisePlateText(entry.plate)));

  return {
    onCandidate(read): CarMatch | null {
      if (read.kind === 'plate') {
        const text = normalisePlateText(read.plate.text);
        return plates.has(text) ? { matchKey: `plate:${text}`, score: 1 } : null;
      }
      for (const subject of subjects) {
        const score = cosineSimilarity(read.face.embedding, subject.embedding);
        if (score >= demo.faceThreshold) return { matchKey: subject.key, score: Math.min(1, score) };
      }
      return null;
    },
  };
}

async function startEngine(modelsDir: string, workers: number): Promise<InferenceEngine> {
  if (workers === 0) return new MainThreadEngine(await FrameAnalyser.load(modelsDir, { logger: silent }));
  return WorkerEngine.start({ modelsDir, workers, threads: 1, logger: silent });
}

interface Sample {
  camera: CameraConfig;
  frame: PipelineFrame;
}

/** Runs N cameras through the pipeline for a bounded time, then bare session.run on frames kept from it. */
async function benchCameras(count: number, clipsDir: string, demo: DemoConfig, hook: HitHook, options: AgentBenchOptions): Promise<AgentBenchRun> {
  const logger = options.logger ?? silent;
  const workers = options.workers ?? os.availableParallelism();
  const durationSec = options.durationSec ?? 20;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agent-bench-'));
  const cameraSpecs = demo.cameras.slice(0, count);
  const rtsp = await startRtspCameras({ port: 0, logger, cameras: cameraSpecs.map((camera) => ({ name: camera.id, clipPath: path.join(clipsDir, `${camera.id}.h264`), fps: 25 })) });
  const engine = await startEngine(options.modelsDir, workers);
  const outbox = new Outbox(path.join(dataDir, 'outbox.sqlite'));
  const cameras = benchCameraConfigs(cameraSpecs, rtsp.urls, options.analysisFps ?? 5);

  const done: number[] = [];
  const hits: number[] = [];
  let measuring = false;
  const pipeline = new FramePipeline({
    carId: 'bench-car',
    cameras: cameras.map((camera) => ({ id: camera.id, analyses: camera.analyses, roi: camera.roi, backPressure: false })),
    engine,
    outbox,
    logger,
    metrics: new AgentMetrics(),
    hitHook: hook,
    onFrameDone: (_, stamp, doneAtMs) => measuring && done.push(doneAtMs - stamp.receivedAtMs),
    onCommitted: (event) => event.role === 'hit' && hits.push(event.committedAtMs - event.frameReceivedAtMs),
  });
  const samples: Sample[] = [];
  const sources = cameras.map((camera) =>
    createCameraSource(camera, (frame) => {
      keepSample(samples, camera, frame);
      pipeline.submit(frame);
    }, logger),
  );
  try {
    pipeline.start();
    sources.forEach((source) => source.start());
    await sleep((options.warmupSec ?? 6) * 1000);

    const cpu = new CpuMeter();
    const before = pipeline.stats();
    const loadStart = os.loadavg()[0]!;
    measuring = true;
    const startedMs = performance.now();
    await sleep(durationSec * 1000);
    const elapsedSec = (performance.now() - startedMs) / 1000;
    measuring = false;
    const after = pipeline.stats();
    const cpuPct = cpu.percentOfOneCore();
    const loadEnd = os.loadavg()[0]!;

    await Promise.all(sources.map((source) => source.stop()));
    await pipeline.stop();
    const bareFps = await measureBareThroughput(options.modelsDir, await recordSessionRuns(options.modelsDir, samples.map(toRequest)), Math.max(1, engine.slots));
    return summarise({ count, workers, elapsedSec, before, after, cpuPct, done, hits, bareFps, loadStart, loadEnd });
  } finally {
    await engine.close();
    outbox.close();
    await rtsp.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function benchCameraConfigs(specs: DemoConfig['cameras'], urls: Record<string, string>, analysisFps: number): CameraConfig[] {
  const config = parseAgentConfig(
    {
      carId: 'bench-car',
      broker: { url: 'mqtt://127.0.0.1:1883' },
      cameras: specs.map((camera) => {
        // As in the demo: plate cameras keep 720p so small plates stay readable, the others run at 360p.
        const platesOnly = camera.analyses.length === 1 && camera.analyses[0] === 'plates';
        return { id: camera.id, source: urls[camera.id]!, analysisFps, width: platesOnly ? 1280 : 640, height: platesOnly ? 720 : 360, analyses: camera.analyses };
      }),
    },
    'bench',
  );
  return config.cameras;
}

function keepSample(samples: Sample[], camera: CameraConfig, frame: PipelineFrame): void {
  const kept = samples.filter((sample) => sample.camera.id === camera.id).length;
  // Every 5th frame, so the sample spans a few seconds of each clip.
  if (kept >= BARE_SAMPLE_FRAMES || frame.index % 5 !== 0) return;
  samples.push({ camera, frame: { ...frame, image: { ...frame.image, data: new Uint8Array(frame.image.data) } } });
}

function toRequest(sample: Sample): AnalysisRequest {
  return { image: sample.frame.image, analyses: sample.camera.analyses, roiPx: roiPixels(sample.camera.roi, sample.frame.image) };
}

interface RunTotals {
  count: number;
  workers: number;
  elapsedSec: number;
  before: ReturnType<FramePipeline['stats']>;
  after: ReturnType<FramePipeline['stats']>;
  cpuPct: { agent: number; others: number };
  done: number[];
  hits: number[];
  bareFps: number;
  loadStart: number;
  loadEnd: number;
}

function summarise(totals: RunTotals): AgentBenchRun {
  const ids = Object.keys(totals.after.cameras);
  const delta = (id: string, key: 'analysed' | 'dropped') => totals.after.cameras[id]![key] - (totals.before.cameras[id]?.[key] ?? 0);
  const fps = ids.map((id) => delta(id, 'analysed') / totals.elapsedSec);
  const analysed = ids.reduce((sum, id) => sum + delta(id, 'analysed'), 0);
  const dropped = ids.reduce((sum, id) => sum + delta(id, 'dropped'), 0);
  const pipelineFps = analysed / totals.elapsedSec;
  return {
    cameras: totals.count,
    workers: totals.workers,
    durationSec: totals.elapsedSec,
    analysedFps: { mean: fps.reduce((a, b) => a + b, 0) / fps.length, min: Math.min(...fps) },
    droppedPct: analysed + dropped === 0 ? 0 : (100 * dropped) / (analysed + dropped),
    cpuPct: totals.cpuPct.agent,
    otherCpuPct: totals.cpuPct.others,
    frameToDoneMs: spread(totals.done),
    frameToHitMs: spread(totals.hits),
    pipelineFps,
    bareFps: totals.bareFps,
    throughputRatio: pipelineFps / totals.bareFps,
    loadAverage: { start: totals.loadStart, end: totals.loadEnd },
  };
}

function spread(samples: number[]): { p50: number; p99: number; samples: number } {
  if (samples.length === 0) return { p50: Number.NaN, p99: Number.NaN, samples: 0 };
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const options = new Command()
    .name('npx tsx bench/agent.ts')
    .description('Benchmark the on-car pipeline with RTSP cameras served from the demo clips')
    .option('--cameras <counts>', 'comma-separated camera counts', '1,3,9')
    .option('--seconds <s>', 'measured time per run, s', '20')
    .option('--workers <n>', 'inference worker threads; 0 runs the models on the main thread', String(os.availableParallelism()))
    .option('--engines', 'instead compare main thread, session pool and worker threads on the same frames')
    .option('--rounds <n>', 'with --engines: passes over all setups', '3')
    .parse()
    .opts<{ cameras: string; seconds: string; workers: string; engines?: boolean; rounds: string }>();
  const modelsDir = process.env.VA_MODELS_DIR;
  const fixturesDir = process.env.VA_FIXTURES_DIR ?? process.env.VA_MEDIA_DIR;
  if (!modelsDir || !fixturesDir) throw new Error('VA_MODELS_DIR and VA_FIXTURES_DIR must be set; the demo clips must exist (run `npm run demo -- --once` first)');
  const print = (line: string) => console.log(line);

  print(`# agent bench  ${new Date().toISOString()}  node ${process.version}  ${os.availableParallelism()} cores`);
  if (options.engines) {
    const { compareEngines } = await import('./agent-engines.js');
    await compareEngines({ modelsDir, clipsDir: path.join(projectRoot(), 'var', 'demo', 'clips'), print, rounds: Number(options.rounds) });
    return;
  }
  await runAgentBench({
    print,
    modelsDir,
    fixturesDir,
    cameraCounts: options.cameras.split(',').map(Number),
    durationSec: Number(options.seconds),
    workers: Number(options.workers),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(`agent bench failed: ${error.message}`);
      process.exit(1);
    },
  );
}
