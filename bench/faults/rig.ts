// The fault rig: real RTSP cameras with one GStreamer server process each, so one can be killed or
// frozen alone. Around them: a private Mosquitto on a free loopback port, a central-side recorder
// that counts each event by car id and sequence number, a signed hotlist and the agent process.
import { generateKeyPairSync } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { projectRoot } from '../../src/assets/paths.js';
import { startClockResponder } from '../../src/central/clock-responder.js';
import { ReceiptSender } from '../../src/central/receipts.js';
import { parseEvent } from '../../src/protocol/event.js';
import { signListPayload, type ListPayload } from '../../src/protocol/lists.js';
import { ALL_EVENTS_FILTER, listSnapshotTopic } from '../../src/protocol/topics.js';
import { startRtspCameras, type RtspCameras } from '../../src/video/rtsp-server.js';
import { freePort, startMosquitto, type RunningMosquitto } from '../../test/support/mosquitto.js';
import { AgentRun, type AgentRunConfig } from './agent-run.js';
import { DEFAULT_BLINK, makeBlinkClip } from './clips.js';

/** Photos of the three cameras and the plate each shows; the first plate is on the car's hotlist. */
export const CAMERA_PHOTOS = [
  { id: 'cam1', photo: 'plates/Quicker_20220930_180856.png', plate: '川A8H458' },
  { id: 'cam2', photo: 'plates/double_yellow.jpg', plate: '京EA5331' },
  { id: 'cam3', photo: 'plates/single_yellow.jpg', plate: '皖K66666' },
] as const;

export const HOTLIST_PLATE = '川A8H458';
export const CAR_ID = 'fault-car';

export interface RigOptions {
  modelsDir: string;
  fixturesDir: string;
  /** Folder where the clips are kept between runs. */
  clipsDir?: string;
  analysisFps?: number;
  storage?: { outboxMaxMiB: number; evidenceMaxMiB: number };
}

export interface RecordedEvent {
  count: number;
  /** 'fix' for a position, 'none' for position null (no fix), 'absent' without the field. */
  position: 'fix' | 'none' | 'absent';
  /** Central clock minus car clock as the car measured it, or null before its first measurement. */
  clockOffsetMs: number | null;
  kind: string;
  cameraId: string;
  carMatch: boolean;
  evidence: number;
  valid: boolean;
}

/**
 * Subscribes like the central service (persistent session, QoS 1), counts events per sequence number
 * and sends the car receipts for the valid ones, as the central service does once it has stored them.
 */
export class CentralRecorder {
  readonly events = new Map<number, RecordedEvent>();
  deliveries = 0;
  private stopResponder: (() => Promise<void>) | null = null;
  private readonly receipts: ReceiptSender;

  private constructor(readonly client: MqttClient) {
    this.receipts = new ReceiptSender({ client, logger: pino({ level: 'silent' }) });
  }

  static async start(brokerUrl: string): Promise<CentralRecorder> {
    const client = await mqtt.connectAsync(brokerUrl, {
      protocolVersion: 5,
      clientId: `fault-central-${process.pid}`,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 300,
    });
    const recorder = new CentralRecorder(client);
    client.on('message', (topic, payload) => recorder.record(topic, payload));
    client.on('error', () => undefined);
    await client.subscribeAsync(ALL_EVENTS_FILTER, { qos: 1 });
    // The car measures its clock offset against this side, as against the central service.
    recorder.stopResponder = await startClockResponder(client, { logger: pino({ level: 'silent' }), shareGroup: null });
    return recorder;
  }

  uniqueSeqs(): number[] {
    return [...this.events.keys()].sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    this.receipts.stop();
    await this.stopResponder?.();
    await this.client.endAsync(true);
  }

  private record(topic: string, payload: Buffer): void {
    if (!topic.endsWith('/events')) return;
    this.deliveries++;
    const parsed = parseEvent(payload, CAR_ID);
    const json = JSON.parse(payload.toString('utf8')) as { seq: number; kind: string; cameraId: string; carMatch?: unknown; evidence?: unknown[]; position?: unknown; clockOffsetMs?: number | null };
    if (parsed.ok) this.receipts.stored(CAR_ID, json.seq);
    const seen = this.events.get(json.seq);
    if (seen !== undefined) {
      seen.count++;
      return;
    }
    const position = json.position === undefined ? 'absent' : json.position === null ? 'none' : 'fix';
    this.events.set(json.seq, { count: 1, position, clockOffsetMs: json.clockOffsetMs ?? null, kind: json.kind, cameraId: json.cameraId, carMatch: json.carMatch !== undefined, evidence: json.evidence?.length ?? 0, valid: parsed.ok });
  }
}

/** One camera on its own RTSP server process, so it can be killed, restarted or frozen alone. */
export class CameraServer {
  private server: RtspCameras | null = null;
  port = 0;

  constructor(
    readonly id: string,
    private readonly clipPath: string,
    private readonly fps: number,
  ) {}

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/${this.id}`;
  }

  get pid(): number {
    return this.server?.pid ?? -1;
  }

  async start(): Promise<void> {
    this.server = await startRtspCameras({ port: this.port, cameras: [{ name: this.id, clipPath: this.clipPath, fps: this.fps }], logger: pino({ level: 'silent' }) });
    this.port = this.server.port;
  }

  /** Kills the server with SIGKILL, as a camera losing power. */
  kill(): void {
    process.kill(this.pid, 'SIGKILL');
  }

  freeze(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  async stop(): Promise<void> {
    if (this.server === null) return;
    try {
      process.kill(this.server.pid, 'SIGCONT');
    } catch {
      // Already gone.
    }
    await this.server.stop();
    this.server = null;
  }
}

/** gpsfake replaying a loop of fixes through a real gpsd, so events carry a position; null without gpsfake. */
async function startGpsFake(dir: string): Promise<{ port: number; stop(): Promise<void> } | null> {
  if (spawnSync('gpsfake', ['-h'], { stdio: 'ignore' }).status !== 0) return null;
  const logFile = path.join(dir, 'drive.nmea');
  writeFileSync(logFile, nmeaFixes(30));
  const port = await freePort();
  // Without -1 gpsfake replays the log in a loop; -c is the delay between sentences in seconds.
  const child = spawn('gpsfake', ['-q', '-P', String(port), '-c', '0.25', logFile], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GGA and RMC sentences for `seconds` fixes along a street, with NMEA 0183 checksums. */
function nmeaFixes(seconds: number): string {
  const sentence = (body: string): string => {
    let checksum = 0;
    for (const char of body) checksum ^= char.charCodeAt(0);
    return `$${body}*${checksum.toString(16).toUpperCase().padStart(2, '0')}`;
  };
  const lines: string[] = [];
  for (let second = 0; second < seconds; second++) {
    const time = `1200${String(second).padStart(2, '0')}.00`;
    const latitude = `3114.${String(100 + second * 10).padStart(4, '0')}`;
    lines.push(sentence(`GPGGA,${time},${latitude},N,12128.5000,E,1,08,0.9,10.0,M,0.0,M,,`));
    lines.push(sentence(`GPRMC,${time},A,${latitude},N,12128.5000,E,0.5,54.7,040626,,,A`));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export class FaultRig {
  agent: AgentRun | null = null;
  private gps: { port: number; stop(): Promise<void> } | null = null;
  private readonly dir: string;
  private readonly publicKeyFile: string;

  private constructor(
    readonly options: RigOptions,
    readonly cameras: CameraServer[],
    readonly broker: RunningMosquitto,
    readonly recorder: CentralRecorder,
    dir: string,
    publicKeyFile: string,
  ) {
    this.dir = dir;
    this.publicKeyFile = publicKeyFile;
  }

  /** Makes the clips, starts cameras, broker and recorder, and publishes the signed hotlist. */
  static async start(options: RigOptions): Promise<FaultRig> {
    const dir = mkdtempSync(path.join(tmpdir(), 'fault-rig-'));
    const clipsDir = options.clipsDir ?? path.join(projectRoot(), 'var', 'faults', 'clips');
    const cameras: CameraServer[] = [];
    for (const camera of CAMERA_PHOTOS) {
      const clip = await makeBlinkClip(path.join(options.fixturesDir, camera.photo), path.join(clipsDir, `${camera.id}-${DEFAULT_BLINK.width}.h264`));
      const server = new CameraServer(camera.id, clip, DEFAULT_BLINK.fps);
      await server.start();
      cameras.push(server);
    }
    mkdirSync(path.join(dir, 'broker'));
    const broker = await startMosquitto({ dir: path.join(dir, 'broker') });
    const recorder = await CentralRecorder.start(broker.url);

    const keys = generateKeyPairSync('ed25519');
    const publicKeyFile = path.join(dir, 'lists.pub.pem');
    writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const hotlist = { v: 1, list: 'hotlist', kind: 'snapshot', version: 1, issuedAtMs: Date.now(), items: [{ key: HOTLIST_PLATE, item: { plate: HOTLIST_PLATE, reason: 'stolen vehicle', priority: 1, expiresAtMs: null } }] } as ListPayload;
    await recorder.client.publishAsync(listSnapshotTopic('hotlist'), JSON.stringify(signListPayload(hotlist, keys.privateKey)), { qos: 1, retain: true });
    const rig = new FaultRig(options, cameras, broker, recorder, dir, publicKeyFile);
    rig.gps = await startGpsFake(dir);
    return rig;
  }

  get dataDir(): string {
    return path.join(this.dir, 'agent-data');
  }

  /** Starts the agent process (again, with the same data folder) and waits until it serves /healthz. */
  async startAgent(): Promise<AgentRun> {
    const config: AgentRunConfig = {
      carId: CAR_ID,
      broker: { url: this.broker.url, protocolVersion: 5, reconnectPeriodMs: 500 },
      dataDir: this.dataDir,
      modelsDir: this.options.modelsDir,
      metricsPort: await freePort(),
      clock: { syncIntervalSec: 30, replyTimeoutMs: 2000 },
      lists: { trustedKeyFiles: [this.publicKeyFile] },
      ...(this.gps === null ? {} : { gps: { enabled: true, host: '127.0.0.1', port: this.gps.port, maxFixAgeMs: 5000 } }),
      ...(this.options.storage === undefined ? {} : { storage: this.options.storage }),
      cameras: this.cameras.map((camera) => ({ id: camera.id, source: camera.url, analysisFps: this.options.analysisFps ?? 2, width: DEFAULT_BLINK.width, height: DEFAULT_BLINK.height, analyses: ['plates'] })),
    };
    const configFile = path.join(this.dir, 'agent.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    this.agent = await AgentRun.start(configFile, config.metricsPort);
    return this.agent;
  }

  async dispose(): Promise<void> {
    if (this.agent !== null && this.agent.running) this.agent.kill();
    await this.agent?.exited;
    await this.recorder.stop().catch(() => undefined);
    await this.gps?.stop();
    for (const camera of this.cameras) await camera.stop().catch(() => undefined);
    await this.broker.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
