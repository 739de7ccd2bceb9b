// The end-to-end demo: installs models and media, makes camera clips, starts the central service
// (with an embedded broker unless one is given), serves the clips as cameras, runs the agent and
// reports every hit with its latency. With `once`, it stops after one pass of the clips.
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../../agent/config.js';
import { parseAgentConfig } from '../../agent/config.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { redactCredentials, type Logger } from '../common/log.js';
import { waitUntil } from '../common/wait.js';
import type { Hit } from '../central/hit.js';
import { parseCentralConfig } from '../central/config.js';
import { listDeltaTopic, listSnapshotTopic } from '../protocol/topics.js';
import { startCentral, type RunningCentral } from '../central/start.js';
import { rtspAvailable, startRtspCameras, type RtspCameras } from '../video/rtsp-server.js';
import type { AgentProcessMessage } from './agent-process.js';
import { prepareDemoClips, type DemoClip } from './clips.js';
import type { DemoConfig } from './config.js';
import { installDemoAssets } from './install.js';
import type { DemoReport } from './report.js';

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

/** Maximum wait for the cameras to deliver one pass of the clips. */
const ONCE_TIMEOUT_MS = 120_000;

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const { config, logger, onProgress } = options;
  const varDir = path.join(options.workDir, 'var');
  const stack: Array<() => Promise<unknown> | unknown> = [];
  try {
    const { modelsDir, mediaDir } = await installDemoAssets(logger, onProgress);
    const clips = await prepareDemoClips(config, mediaDir, path.join(varDir, 'demo', 'clips'), logger);
    onProgress(`clips ready: ${clips.length} cameras`);

    const broker = await brokerFor(options, logger);
    if (broker.embedded) stack.push(() => broker.embedded!.close());
    onProgress(`broker: ${redactCredentials(broker.url)}${broker.embedded ? ' (embedded)' : ''}`);

    const listKeys = createListKeys(path.join(varDir, 'demo', 'keys'));
    const central = await startDemoCentral(config, varDir, modelsDir, mediaDir, broker, listKeys.signingKeyFile, logger);
    stack.push(() => central.stop());
    // On a shared broker, remove this run's retained lists at the end. They are signed with a key
    // that only this run's car trusts.
    if (!broker.embedded) stack.push(() => clearRetainedLists(central));
    const hits: Hit[] = [];
    let ingested = 0;
    central.service.on('hit', (hit) => {
      if (hit.carId !== config.carId) return;
      hits.push(hit);
      options.onHit(hit);
    });
    // Only this car's first deliveries count: a shared broker may carry other cars' events.
    central.service.on('ingested', (event) => {
      if (event.carId === config.carId && !event.duplicate) ingested++;
    });

    const sources = await cameraSources(clips, options, logger);
    if (sources.rtsp) stack.push(() => sources.rtsp!.stop());
    onProgress(`cameras: ${sources.rtsp ? 'RTSP on 127.0.0.1' : 'file sources (GStreamer RTSP server not installed)'}`);

    const agentConfig = demoAgentConfig(config, clips, sources.urls, broker, varDir, modelsDir, listKeys.publicKeyFile, options.once);
    const car = await startAgentProcess(agentConfig, path.join(varDir, 'demo', 'agent.json'));
    stack.push(() => car.kill());
    onProgress('agent running in its own process; hits appear below as they arrive');

    if (options.once) {
      await car.waitForOnePass(config.cameras.map((camera) => camera.id), config.clipSeconds * 1000, ONCE_TIMEOUT_MS);
    } else {
      await (options.stopSignal ?? new Promise<never>(() => {}));
    }

    const { committed, confirmed, carHits } = await car.stop();
    return { hits, expected: config.expectedHits, events: { committed, confirmed, ingested }, carHits, framesByCamera: car.framesByCamera() };
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
  signingKeyFile: string,
  logger: Logger,
): Promise<RunningCentral> {
  const database = path.join(varDir, 'demo', 'central.sqlite');
  // Each demo run starts with an empty store, so its summary counts only this run's hits.
  for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true });
  const centralConfig = parseCentralConfig(
    {
      // No session kept after the demo ends, so a shared broker does not queue events for it, and no
      // share group, so sessions that other clients left in a group cannot take a share of the demo's events.
      broker: { url: broker.url, protocolVersion: broker.protocolVersion, clientId: `central-demo-${process.pid}`, sessionExpirySec: 0, shareGroup: null },
      database,
      hotlist: config.hotlist,
      watchlist: config.watchlist.map((subject) => ({ ...subject, photos: subject.photos.map((photo) => path.join(mediaDir, photo)) })),
      faceThreshold: config.faceThreshold,
      modelsDir,
      http: { port: 0 },
      lists: { signingKeyFile },
    },
    varDir,
    'demo',
  );
  return startCentral(centralConfig, { logger });
}

async function cameraSources(clips: DemoClip[], options: DemoOptions, logger: Logger): Promise<{ rtsp: RtspCameras | null; urls: Map<string, string> }> {
  const urls = new Map<string, string>();
  if (options.rtsp !== false && (await rtspAvailable())) {
    const rtsp = await startRtspCameras({ port: 0, logger, cameras: clips.map((clip) => ({ name: clip.cameraId, clipPath: clip.clipPath, fps: clip.fps })) });
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
  trustedKeyFile: string,
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
      lists: { trustedKeyFiles: [trustedKeyFile] },
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

const AGENT_PROCESS_SCRIPT = fileURLToPath(new URL('./agent-process.ts', import.meta.url));

interface AgentProcess {
  waitForOnePass(cameraIds: string[], clipMs: number, timeoutMs: number): Promise<void>;
  /** Stops the agent, which drains its outbox first; resolves with its event counts. */
  stop(): Promise<{ committed: number; confirmed: number; carHits: number }>;
  framesByCamera(): Record<string, number>;
  kill(): void;
}

/** Forks the agent with its config and resolves once its cameras are started. */
async function startAgentProcess(config: AgentConfig, configPath: string): Promise<AgentProcess> {
  mkdirSync(path.dirname(configPath), { recursive: true });
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child: ChildProcess = fork(AGENT_PROCESS_SCRIPT, [configPath], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

  let cameras: Extract<AgentProcessMessage, { type: 'progress' }>['cameras'] = {};
  const waiters = new Map<AgentProcessMessage['type'], (message: AgentProcessMessage) => void>();
  let failure: Error | null = null;
  child.on('message', (message: AgentProcessMessage) => {
    if (message.type === 'progress') cameras = message.cameras;
    if (message.type === 'failed') failure = new Error(`the agent failed: ${message.message}`);
    waiters.get(message.type)?.(message);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(failure ?? new Error(`the agent process exited early (code ${code}, signal ${signal})`))),
  );
  exited.catch(() => undefined);
  const next = <T extends AgentProcessMessage['type']>(type: T) =>
    Promise.race([new Promise<Extract<AgentProcessMessage, { type: T }>>((resolve) => waiters.set(type, resolve as (m: AgentProcessMessage) => void)), exited]);

  await next('started');
  return {
    async waitForOnePass(cameraIds, clipMs, timeoutMs) {
      const done = () => cameraIds.every((id) => cameras[id] !== undefined && cameras[id]!.lastFrameAtMs - cameras[id]!.firstFrameAtMs >= clipMs);
      if (await Promise.race([waitUntil(done, timeoutMs), exited])) return;
      const silent = cameraIds.filter((id) => cameras[id] === undefined);
      throw new Error(
        `the cameras did not deliver one pass of the clips within ${timeoutMs / 1000} s` +
          (silent.length ? `; no frames at all from ${silent.join(', ')}` : '') +
          '; run with LOG_LEVEL=info to see the camera logs',
      );
    },
    async stop() {
      const stopped = next('stopped');
      child.send({ type: 'stop' });
      return stopped;
    },
    framesByCamera: () => Object.fromEntries(Object.entries(cameras).map(([id, entry]) => [id, entry.frames])),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Writes a new ed25519 key pair for this run: the central service signs the hotlist and watchlist
 * with the private key, and the car trusts only the public key.
 */
function createListKeys(dir: string): { signingKeyFile: string; publicKeyFile: string } {
  mkdirSync(dir, { recursive: true });
  const keys = generateKeyPairSync('ed25519');
  const signingKeyFile = path.join(dir, 'lists-signing.pem');
  const publicKeyFile = path.join(dir, 'lists-public.pem');
  writeFileSync(signingKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  return { signingKeyFile, publicKeyFile };
}

async function clearRetainedLists(central: RunningCentral): Promise<void> {
  const topics = (['hotlist', 'watchlist'] as const).flatMap((list) => [listSnapshotTopic(list), listDeltaTopic(list)]);
  await Promise.all(topics.map((topic) => central.client.publishAsync(topic, '', { qos: 1, retain: true })));
}

