// Wires the on-car agent: cameras feed the frame pipeline (scheduling, inference, tracking, events),
// events go to the outbox, and the publisher drains it to MQTT.
import type { MqttClient } from 'mqtt';
import type { Cascade } from '../src/vision/cascade.js';
import type { RgbImage } from '../src/vision/image.js';
import { redactCredentials, type Logger } from '../src/common/log.js';
import type { Position } from '../src/protocol/event.js';
import type { CameraReaderStats } from '../src/video/frame-reader.js';
import { isBackPressured } from './capture/camera-source.js';
import type { AgentConfig, CameraConfig } from './config.js';
import { createInferenceEngine } from './inference/create-engine.js';
import { MainThreadEngine, type InferenceEngine } from './inference/engine.js';
import { FrameAnalyser } from './inference/frame-analyser.js';
import { FramePipeline } from './pipeline/frame-pipeline.js';
import type { HitHook } from './pipeline/hit-hook.js';
import { AgentMetrics } from './metrics.js';
import { connectBroker } from './uplink/connect.js';
import { openOutbox } from './uplink/open-outbox.js';
import type { Outbox } from './uplink/outbox.js';
import { Publisher } from './uplink/publisher.js';
import { listenForReceipts } from './uplink/receipts.js';

export interface CameraFrame {
  cameraId: string;
  index: number;
  receivedAtMs: number;
  /** Frame time for tracking when it differs from receivedAtMs (files replayed as fast as possible). */
  mediaTimeMs?: number;
  image: RgbImage;
}

/** One supervised camera; capture/ provides the ffmpeg-backed implementation. */
export interface FrameSource {
  start(): void;
  stop(): Promise<void>;
  /** ffmpeg's state, for sources read by CameraReader. */
  stats?(): CameraReaderStats;
}

/**
 * Creates a camera's source. A promise returned by `onFrame` makes the source hold its next frame
 * back until it settles (replays read as fast as possible). `onEnd` reports the end of a replay.
 */
export type FrameSourceFactory = (
  camera: CameraConfig,
  onFrame: (frame: CameraFrame) => void | Promise<void>,
  logger: Logger,
  onEnd?: () => void,
) => FrameSource;

export interface AgentDeps {
  config: AgentConfig;
  logger: Logger;
  createFrameSource: FrameSourceFactory;
  metrics?: AgentMetrics;
  /** Started inference engine to use (tests and benchmarks); started from the config otherwise. */
  engine?: InferenceEngine;
  /** Loaded cascade to run on the main thread, when no engine is given. */
  cascade?: Cascade;
  mqttClient?: MqttClient;
  /** On-car matching of each tracked read; a match is sent at once as a hit. */
  hitHook?: HitHook;
  /** Car position at a car-clock time: null without a fix, undefined when the car has no GPS receiver. */
  positionAt?: (atMs: number) => Position | null | undefined;
  /** Central clock minus car clock, ms, or null while not measured. */
  clockOffsetMs?: () => number | null;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly sources = new Map<string, FrameSource>();
  private outbox: Outbox | null = null;
  private publisher: Publisher | null = null;
  private stopReceipts: (() => void) | null = null;
  private client: MqttClient | null = null;
  private engine: InferenceEngine | null = null;
  private pipeline: FramePipeline | null = null;

  constructor(private readonly deps: AgentDeps) {
    this.metrics = deps.metrics ?? new AgentMetrics();
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    this.engine = await this.startEngine();

    this.outbox = openOutbox(config, logger, this.metrics);
    this.client = this.deps.mqttClient ?? connectBroker(config);
    const receipts = config.broker.deleteAfter === 'central-receipt';
    const publisher = new Publisher({
      client: this.client,
      outbox: this.outbox,
      logger,
      ...(receipts ? { receipts: { timeoutMs: config.broker.receiptTimeoutSec * 1000 } } : {}),
      onAcked: () => this.metrics.eventsAcked.inc(),
      onConfirmed: () => this.metrics.eventsConfirmed.inc(),
      onResent: (count) => this.metrics.eventsResent.inc(count),
      onQuarantined: (_seq, code) => this.metrics.eventsQuarantined.inc({ code }),
      onUnmatchedRejection: () => this.metrics.receiptsUnmatched.inc(),
    });
    this.publisher = publisher;
    if (receipts) {
      this.stopReceipts = listenForReceipts({
        client: this.client,
        carId: config.carId,
        logger,
        onReceipt: (receipt) => publisher.applyReceipt(receipt),
        onInvalid: () => this.metrics.receiptsInvalid.inc(),
      });
    }
    this.watchLink(this.client);

    this.pipeline = this.createPipeline(this.engine, this.outbox);
    this.pipeline.start();
    for (const camera of config.cameras) this.startCamera(camera, this.pipeline);
    logger.info({ carId: config.carId, cameras: config.cameras.length, inference: this.engine.kind, slots: this.engine.slots, outboxDepth: this.outbox.stats().depth }, 'agent started');
  }

  /** Stops cameras, finishes the frame in progress, gives the uplink `drainMs` to empty the outbox, closes all. */
  async stop(drainMs = 2000): Promise<void> {
    await Promise.all([...this.sources.values()].map((source) => source.stop()));
    await this.pipeline?.stop();
    if (this.deps.engine === undefined) await this.engine?.close();
    const drained = (await this.publisher?.drained(drainMs)) ?? true;
    this.publisher?.stop();
    this.stopReceipts?.();
    await this.client?.endAsync();
    const depth = this.outbox?.stats().depth ?? 0;
    this.outbox?.close();
    this.deps.logger.info({ drained, outboxDepth: depth }, 'agent stopped');
  }

  outboxStats() {
    return this.outbox?.stats() ?? null;
  }

  /** Frames analysed, dropped and failed, and events and hits committed, per camera. */
  pipelineStats() {
    return this.pipeline?.stats() ?? null;
  }

  private async startEngine(): Promise<InferenceEngine> {
    const { config, logger, engine, cascade } = this.deps;
    if (engine !== undefined) return engine;
    if (cascade !== undefined) return new MainThreadEngine(new FrameAnalyser(cascade));
    return createInferenceEngine(config, logger);
  }

  private createPipeline(engine: InferenceEngine, outbox: Outbox): FramePipeline {
    const { config, logger } = this.deps;
    return new FramePipeline({
      carId: config.carId,
      cameras: config.cameras.map((camera) => ({ id: camera.id, analyses: camera.analyses, roi: camera.roi, backPressure: isBackPressured(camera) })),
      engine,
      outbox,
      logger,
      metrics: this.metrics,
      hitHook: this.deps.hitHook,
      positionAt: this.deps.positionAt,
      clockOffsetMs: this.deps.clockOffsetMs,
      onCommitted: () => this.publisher?.pump(),
    });
  }

  /** Starts a camera's source: live frames replace older waiting ones, fast replays wait for room. */
  private startCamera(camera: CameraConfig, pipeline: FramePipeline): void {
    const onFrame = isBackPressured(camera) ? (frame: CameraFrame) => pipeline.offer(frame) : (frame: CameraFrame) => pipeline.submit(frame);
    let source: FrameSource;
    try {
      source = this.deps.createFrameSource(camera, onFrame, this.deps.logger, () => void pipeline.endCamera(camera.id));
    } catch (error) {
      // One camera's bad source (a missing replay file) must not stop the others; /healthz reports it.
      this.metrics.cameraStartFailures.inc({ camera: camera.id });
      // Watched without frames, so /healthz lists it as a camera that delivers none.
      this.metrics.watchCamera({ cameraId: camera.id, restarts: () => 0 });
      this.deps.logger.error({ camera: camera.id, err: redactCredentials((error as Error).message) }, 'camera could not be started; the other cameras keep running');
      return;
    }
    this.sources.set(camera.id, source);
    if (source.stats !== undefined) this.metrics.watchCamera({ cameraId: camera.id, restarts: () => source.stats!().restarts });
    source.start();
  }

  private watchLink(client: MqttClient): void {
    const { logger } = this.deps;
    // One error line per outage: mqtt.js reports the same failure on every reconnect attempt.
    let errorLoggedThisOutage = false;
    const onConnected = () => {
      errorLoggedThisOutage = false;
      this.metrics.uplinkUp.set(1);
      this.metrics.uplinkConnects.inc();
      logger.info({ outboxDepth: this.outbox?.stats().depth }, 'uplink connected');
    };
    client.on('connect', onConnected);
    // A client handed in already connected (the clock exchange runs first) fires no further connect.
    if (client.connected) onConnected();
    client.on('close', () => this.metrics.uplinkUp.set(0));
    client.on('offline', () => logger.warn({ outboxDepth: this.outbox?.stats().depth }, 'uplink offline; events wait in the outbox'));
    client.on('error', (error) => {
      if (errorLoggedThisOutage) {
        logger.debug({ err: error.message }, 'uplink error');
        return;
      }
      errorLoggedThisOutage = true;
      logger.warn({ err: error.message }, 'uplink error; retrying quietly until the link is back');
    });
  }
}
