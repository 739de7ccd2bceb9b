// Wires the on-car pipeline: camera readers feed the fair scheduler, one inference loop runs the
// cascade on each scheduled frame, events go to the outbox, and the publisher drains it to MQTT.
import type { MqttClient } from 'mqtt';
import { Cascade } from '../src/vision/cascade.js';
import type { RgbImage } from '../src/vision/image.js';
import type { Logger } from '../src/common/log.js';
import type { AgentConfig, CameraConfig } from './config.js';
import { commitFrameEvents } from './pipeline/events.js';
import { FrameScheduler } from './pipeline/scheduler.js';
import { AgentMetrics } from './metrics.js';
import { connectBroker } from './uplink/connect.js';
import { openOutbox } from './uplink/open-outbox.js';
import type { Outbox } from './uplink/outbox.js';
import { Publisher } from './uplink/publisher.js';

export interface CameraFrame {
  cameraId: string;
  index: number;
  receivedAtMs: number;
  image: RgbImage;
}

/** One supervised camera; capture/ provides the ffmpeg-backed implementation. */
export interface FrameSource {
  start(): void;
  stop(): Promise<void>;
}

export type FrameSourceFactory = (camera: CameraConfig, onFrame: (frame: CameraFrame) => void, logger: Logger) => FrameSource;

export interface AgentDeps {
  config: AgentConfig;
  logger: Logger;
  createFrameSource: FrameSourceFactory;
  metrics?: AgentMetrics;
  /** Loaded cascade to share (tests and the demo); loaded from config.modelsDir otherwise. */
  cascade?: Cascade;
  mqttClient?: MqttClient;
}

export class Agent {
  readonly metrics: AgentMetrics;
  private readonly scheduler = new FrameScheduler<CameraFrame>();
  private readonly sources: FrameSource[] = [];
  private outbox: Outbox | null = null;
  private publisher: Publisher | null = null;
  private client: MqttClient | null = null;
  private cascade: Cascade | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: AgentDeps) {
    this.metrics = deps.metrics ?? new AgentMetrics();
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    this.cascade = this.deps.cascade ?? (await Cascade.load(config.modelsDir, { threads: config.inferenceThreads, logger }));

    this.outbox = openOutbox(config, logger, this.metrics);
    this.client = this.deps.mqttClient ?? connectBroker(config);
    this.publisher = new Publisher({
      client: this.client,
      outbox: this.outbox,
      logger,
      onAcked: () => this.metrics.eventsAcked.inc(),
    });
    this.watchLink(this.client);

    this.loop = this.runInferenceLoop();
    for (const camera of config.cameras) {
      const source = this.deps.createFrameSource(camera, (frame) => this.onFrame(frame), logger);
      this.sources.push(source);
      source.start();
    }
    logger.info({ carId: config.carId, cameras: config.cameras.length, outboxDepth: this.outbox.stats().depth }, 'agent started');
  }

  /** Stops cameras, finishes the frame in progress, gives the uplink `drainMs` to empty the outbox, closes all. */
  async stop(drainMs = 2000): Promise<void> {
    await Promise.all(this.sources.map((source) => source.stop()));
    this.scheduler.close();
    await this.loop;
    const drained = (await this.publisher?.drained(drainMs)) ?? true;
    this.publisher?.stop();
    await this.client?.endAsync();
    const depth = this.outbox?.stats().depth ?? 0;
    this.outbox?.close();
    this.deps.logger.info({ drained, outboxDepth: depth }, 'agent stopped');
  }

  outboxStats() {
    return this.outbox?.stats() ?? null;
  }

  private onFrame(frame: CameraFrame): void {
    this.metrics.recordFrame(frame.cameraId, frame.receivedAtMs);
    if (this.scheduler.submit(frame)) this.metrics.framesDropped.inc({ camera: frame.cameraId });
  }

  private async runInferenceLoop(): Promise<void> {
    const cameraById = new Map(this.deps.config.cameras.map((camera) => [camera.id, camera]));
    for (let frame = await this.scheduler.next(); frame; frame = await this.scheduler.next()) {
      const camera = cameraById.get(frame.cameraId)!;
      try {
        await this.analyseFrame(frame, camera);
      } catch (error) {
        // One bad frame must not stop the loop; the cause is logged and counted.
        this.metrics.frameErrors.inc({ camera: frame.cameraId });
        this.deps.logger.error({ camera: frame.cameraId, frame: frame.index, err: (error as Error).message }, 'frame analysis failed');
      }
    }
  }

  private async analyseFrame(frame: CameraFrame, camera: CameraConfig): Promise<void> {
    const startedAtMs = Date.now();
    const analysis = await this.cascade!.analyze(frame.image, {
      objects: true,
      plates: camera.analyses.includes('plates') ? 'gated' : false,
      faces: camera.analyses.includes('faces') ? 'gated' : false,
      embed: true,
    });
    const analysedAtMs = Date.now();
    this.metrics.observeAnalysis(frame.cameraId, analysis.timingsMs, analysedAtMs - startedAtMs);

    const seqs = await commitFrameEvents(
      {
        carId: this.deps.config.carId,
        cameraId: frame.cameraId,
        image: frame.image,
        receivedAtMs: frame.receivedAtMs,
        inferenceStartedAtMs: startedAtMs,
        analysedAtMs,
        clockOffsetMs: null,
        analysis,
      },
      this.outbox!,
    );
    this.metrics.eventsCommitted.inc(seqs.length);
    this.publisher!.pump();
  }

  private watchLink(client: MqttClient): void {
    const { logger } = this.deps;
    client.on('connect', () => {
      this.metrics.uplinkUp.set(1);
      this.metrics.uplinkConnects.inc();
      logger.info({ outboxDepth: this.outbox?.stats().depth }, 'uplink connected');
    });
    client.on('close', () => this.metrics.uplinkUp.set(0));
    client.on('offline', () => logger.warn({ outboxDepth: this.outbox?.stats().depth }, 'uplink offline; events wait in the outbox'));
    client.on('error', (error) => logger.warn({ err: error.message }, 'uplink error'));
  }
}
