// The end-to-end demo: installs models and media, makes camera clips, starts the central service
// (with an embedded broker unless one is given), serves the clips as cameras, runs the agent and
// reports every hit with its latency. With `once`, it stops after one pass of the clips.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Agent, type CameraFrame, type FrameSourceFactory } from '../../agent/agent.js';
import { createCameraSource } from '../../agent/capture/camera-source.js';
import type { AgentConfig } from '../../agent/config.js';
import { parseAgentConfig } from '../../agent/config.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import type { Logger } from '../common/log.js';
import type { Hit } from '../central/hit.js';
import { parseCentralConfig } from '../central/config.js';
import { startCentral, type RunningCentral } from '../central/start.js';
import { CascadeFaceEmbedder } from '../matching/cascade-embedder.js';
import { rtspAvailable, startRtspCameras, type RtspCameras } from '../video/rtsp-server.js';
import { Cascade } from '../vision/cascade.js';
import { prepareDemoClips, type DemoClip } from './clips.js';
import type { DemoConfig } from './config.js';
import { installDemoAssets } from './install.js';
import { hitKey, type DemoReport } from './report.js';

export interface DemoOptions {
  config: DemoConfig;
  /** Project folder for var/: installed models, media, clips and databases. */
  workDir: string;
  once: boolean;
  /** Broker URL; when absent an embedded broker is started on 127.0.0.1. */
  brokerUrl?: string;
  /** Serve the clips over RTSP when GStreamer's server is installed (default true). */
  rtsp?: boolean;
  logger: Logger;
  /** Called for each new hit as it arrives. */
  onHit: (hit: Hit) => void;
  /** Called with one line of progress for the person watching. */
  onProgress: (line: string) => void;
  /** Resolves to stop a run without `once` (for example on SIGINT). */
  stopSignal?: Promise<void>;
}

/** Longest wait for the cameras to deliver one pass of the clips. */
const ONCE_TIMEOUT_MS = 120_000;

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const { config, logger, onProgress } = options;
  const varDir = path.join(options.workDir, 'var');
  const stack: Array<() => Promise<unknown> | unknown> = [];
  try {
    const { modelsDir, mediaDir } = await installDemoAssets(logger, onProgress);
    const clips = await prepareDemoClips(config, mediaDir, path.join(varDir, 'demo', 'clips'), logger);
    onProgress(`clips ready: ${clips.length} cameras`);

    const cascade = await Cascade.load(modelsDir, { logger });
    stack.push(() => cascade.close());

    const broker = await brokerFor(options, logger);
    if (broker.embedded) stack.push(() => broker.embedded!.close());
    onProgress(`broker: ${broker.url}${broker.embedded ? ' (embedded)' : ''}`);

    const central = await startDemoCentral(config, varDir, modelsDir, mediaDir, broker, cascade, logger);
    stack.push(() => central.stop());
    const hits: Hit[] = [];
    let ingested = 0;
    central.service.on('hit', (hit) => {
      hits.push(hit);
      options.onHit(hit);
    });
    central.service.on('ingested', () => ingested++);

    const sources = await cameraSources(clips, options, logger);
    if (sources.rtsp) stack.push(() => sources.rtsp!.stop());
    onProgress(`cameras: ${sources.rtsp ? 'RTSP on 127.0.0.1' : 'file sources (GStreamer RTSP server not installed)'}`);

    const agentConfig = demoAgentConfig(config, clips, sources.urls, broker, varDir, modelsDir, options.once);
    const progress = new CameraProgress();
    const agent = new Agent({ config: agentConfig, logger, cascade, createFrameSource: progress.wrap(createCameraSource) });
    await agent.start();
    onProgress('agent running; hits appear below as they arrive');

    if (options.once) {
      await progress.waitForOnePass(config.cameras.map((camera) => camera.id), config.clipSeconds * 1000, ONCE_TIMEOUT_MS);
    } else {
      await (options.stopSignal ?? new Promise<never>(() => {}));
    }

    await agent.stop(10_000);
    const acked = (await agent.metrics.eventsAcked.get()).values[0]?.value ?? 0;
    await waitUntil(() => ingested >= acked, 10_000);
    return { hits, expected: config.expectedHits, events: { acked, ingested }, framesByCamera: progress.framesByCamera() };
  } finally {
    for (const close of stack.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'demo shutdown step failed');
      }
    }
  }
}

interface BrokerChoice {
  url: string;
  protocolVersion: 4 | 5;
  embedded: EmbeddedBroker | null;
}

async function brokerFor(options: DemoOptions, logger: Logger): Promise<BrokerChoice> {
  if (options.brokerUrl) return { url: options.brokerUrl, protocolVersion: 5, embedded: null };
  const embedded = await startEmbeddedBroker(logger);
  return { url: embedded.url, protocolVersion: embedded.protocolVersion, embedded };
}

async function startDemoCentral(
  config: DemoConfig,
  varDir: string,
  modelsDir: string,
  mediaDir: string,
  broker: BrokerChoice,
  cascade: Cascade,
  logger: Logger,
): Promise<RunningCentral> {
  const database = path.join(varDir, 'demo', 'central.sqlite');
  // Each demo run starts with an empty store, so its summary counts only this run's hits.
  for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true });
  const centralConfig = parseCentralConfig(
    {
      broker: { url: broker.url, protocolVersion: broker.protocolVersion, clientId: `central-demo-${process.pid}` },
      database,
      hotlist: config.hotlist,
      watchlist: config.watchlist.map((subject) => ({ ...subject, photos: subject.photos.map((photo) => path.join(mediaDir, photo)) })),
      faceThreshold: config.faceThreshold,
      modelsDir,
      http: { port: 0 },
    },
    varDir,
    'demo',
  );
  return startCentral(centralConfig, { logger, embedder: new CascadeFaceEmbedder(cascade) });
}

async function cameraSources(clips: DemoClip[], options: DemoOptions, logger: Logger): Promise<{ rtsp: RtspCameras | null; urls: Map<string, string> }> {
  const urls = new Map<string, string>();
  if (options.rtsp !== false && (await rtspAvailable())) {
    const rtsp = await startRtspCameras({ port: 0, cameras: clips.map((clip) => ({ name: clip.cameraId, clipPath: clip.clipPath, fps: clip.fps })) });
    for (const clip of clips) urls.set(clip.cameraId, rtsp.urls[clip.cameraId]!);
    return { rtsp, urls };
  }
  logger.warn('GStreamer RTSP server not installed; cameras read the clip files directly');
  for (const clip of clips) urls.set(clip.cameraId, clip.clipPath);
  return { rtsp: null, urls };
}

function demoAgentConfig(
  config: DemoConfig,
  clips: DemoClip[],
  urls: Map<string, string>,
  broker: BrokerChoice,
  varDir: string,
  modelsDir: string,
  once: boolean,
): AgentConfig {
  const dataDir = path.join(varDir, 'demo', 'agent');
  // A fresh outbox per run: a leftover backlog from an interrupted run would add hits to this one.
  rmSync(dataDir, { recursive: true, force: true });
  return parseAgentConfig(
    {
      carId: config.carId,
      broker: { url: broker.url, protocolVersion: broker.protocolVersion },
      dataDir,
      modelsDir,
      cameras: config.cameras.map((camera, index) => {
        const platesOnly = camera.analyses.length === 1 && camera.analyses[0] === 'plates';
        return {
          id: camera.id,
          source: urls.get(camera.id)!,
          sourceFps: clips[index]!.fps,
          loop: !once,
          analysisFps: config.analysisFps,
          // Plate cameras keep 720p so small plates stay readable; the others run at 360p.
          width: platesOnly ? 1280 : 640,
          height: platesOnly ? 720 : 360,
          analyses: camera.analyses,
        };
      }),
    },
    'demo',
  );
}

/** Counts frames per camera, so a `once` run knows when every camera has shown its whole clip. */
class CameraProgress {
  private readonly firstFrameAtMs = new Map<string, number>();
  private readonly lastFrameAtMs = new Map<string, number>();
  private readonly frames = new Map<string, number>();

  wrap(factory: FrameSourceFactory): FrameSourceFactory {
    return (camera, onFrame, logger) =>
      factory(
        camera,
        (frame: CameraFrame) => {
          if (!this.firstFrameAtMs.has(frame.cameraId)) this.firstFrameAtMs.set(frame.cameraId, frame.receivedAtMs);
          this.lastFrameAtMs.set(frame.cameraId, frame.receivedAtMs);
          this.frames.set(frame.cameraId, (this.frames.get(frame.cameraId) ?? 0) + 1);
          onFrame(frame);
        },
        logger,
      );
  }

  async waitForOnePass(cameraIds: string[], clipMs: number, timeoutMs: number): Promise<void> {
    const done = () => cameraIds.every((id) => (this.lastFrameAtMs.get(id) ?? 0) - (this.firstFrameAtMs.get(id) ?? Infinity) >= clipMs);
    if (await waitUntil(done, timeoutMs)) return;
    const silent = cameraIds.filter((id) => !this.frames.has(id));
    throw new Error(
      `the cameras did not deliver one pass of the clips within ${timeoutMs / 1000} s` +
        (silent.length ? `; no frames at all from ${silent.join(', ')}` : '') +
        '; check the ffmpeg lines in the log above',
    );
  }

  framesByCamera(): Record<string, number> {
    return Object.fromEntries(this.frames);
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export { hitKey };
