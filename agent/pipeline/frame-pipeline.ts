// The on-car pipeline from frame to event: the fair scheduler feeds the inference engine's slots,
// results go back into frame order per camera, and each camera's CameraEvents tracks them and
// commits hits and sightings to the outbox. Capture and the uplink are wired around it in agent.ts.
import type { Logger } from '../../src/common/log.js';
import type { Position } from '../../src/protocol/event.js';
import type { RgbImage } from '../../src/vision/image.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';
import type { CameraConfig } from '../config.js';
import type { InferenceEngine } from '../inference/engine.js';
import type { FrameAnalysis } from '../inference/frame-analyser.js';
import type { AgentMetrics } from '../metrics.js';
import { DEFAULT_CAMERA_TRACKS_OPTIONS, type CameraTracksOptions } from '../tracking/camera-tracks.js';
import type { Outbox } from '../uplink/outbox.js';
import { CameraEvents, type AnalysedCameraFrame, type CommittedEvent } from './camera-events.js';
import type { HitHook } from './hit-hook.js';
import { FrameScheduler } from './scheduler.js';

export interface PipelineFrame {
  cameraId: string;
  index: number;
  /** Car clock when the frame was read, ms since the epoch. */
  receivedAtMs: number;
  /** Frame time for tracking when it differs from receivedAtMs (replayed files), ms since the epoch. */
  mediaTimeMs?: number;
  image: RgbImage;
}

export interface PipelineCamera extends Pick<CameraConfig, 'id' | 'analyses' | 'roi'> {
  /** True for replayed files read as fast as possible: frames wait instead of being dropped. */
  backPressure: boolean;
}

export interface FramePipelineDeps {
  carId: string;
  cameras: readonly PipelineCamera[];
  engine: InferenceEngine;
  outbox: Outbox;
  logger: Logger;
  metrics: AgentMetrics;
  hitHook?: HitHook | null;
  /** Car position at a car-clock time: null without a fix, undefined when the car has no GPS receiver. */
  positionAt?: (atMs: number) => Position | null | undefined;
  /** Central clock minus car clock, ms, or null while not measured. */
  clockOffsetMs?: () => number | null;
  /** Called after every committed event, for example to wake the publisher. */
  onCommitted?: (event: CommittedEvent) => void;
  /** Called when a frame's results are tracked and its events committed, with the frame's times (benchmarks). */
  onFrameDone?: (cameraId: string, stamp: AnalysedCameraFrame['stamp'], doneAtMs: number) => void;
  /** Prefix of track ids; must differ between runs of the agent so ids stay unique. Defaults to the start time. */
  trackIdPrefix?: string;
  tracking?: CameraTracksOptions;
  nowMs?: () => number;
  /** Interval of the check for live cameras that stopped sending frames, ms. */
  staleCheckEveryMs?: number;
}

export interface CameraPipelineStats {
  analysed: number;
  dropped: number;
  failed: number;
  events: number;
  hits: number;
}

/** Results a camera may have waiting for event work before its next frame is analysed. */
const MAX_EVENT_BACKLOG = 2;

interface Lane {
  camera: PipelineCamera;
  events: CameraEvents;
  /** Frame order: the scheduler numbers each camera's frames as they leave it, and results apply in that order. */
  nextToApply: number;
  ready: Map<number, AnalysedCameraFrame | null>;
  chain: Promise<void>;
  backlog: number;
  /** Frames handed to the scheduler, and of those the ones analysed, failed or dropped. */
  accepted: number;
  finished: number;
  /** Waiting for every accepted frame to finish. */
  idleWaiters: Array<() => void>;
  lastFrameAtMs: number | null;
  stats: CameraPipelineStats;
}

export class FramePipeline {
  private readonly scheduler = new FrameScheduler<PipelineFrame>();
  private readonly lanes = new Map<string, Lane>();
  private readonly nowMs: () => number;
  private loops: Promise<void>[] = [];
  private staleTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private errorCounts = { evidence: 0, 'hit-hook': 0 };

  constructor(private readonly deps: FramePipelineDeps) {
    this.nowMs = deps.nowMs ?? Date.now;
    const prefix = deps.trackIdPrefix ?? this.nowMs().toString(36);
    for (const camera of deps.cameras) this.lanes.set(camera.id, this.createLane(camera, prefix));
  }

  /** Starts one analysis loop per inference slot and the check for stalled live cameras. */
  start(): void {
    this.loops = Array.from({ length: this.deps.engine.slots }, () => this.runSlot());
    const everyMs = this.deps.staleCheckEveryMs ?? 1000;
    this.staleTimer = setInterval(() => this.endStaleTracks(), everyMs);
    this.staleTimer.unref();
  }

  /** Takes a live frame; an older frame of the same camera still waiting is dropped and counted. */
  submit(frame: PipelineFrame): void {
    const lane = this.laneOf(frame.cameraId);
    lane.lastFrameAtMs = this.nowMs();
    this.deps.metrics.recordFrame(frame.cameraId, frame.receivedAtMs);
    lane.accepted += 1;
    if (this.scheduler.submit(frame)) {
      lane.stats.dropped += 1;
      this.deps.metrics.framesDropped.inc({ camera: frame.cameraId });
      this.finish(lane);
    }
  }

  /** Takes a frame that must not be dropped; resolves once there is room for it. */
  offer(frame: PipelineFrame): Promise<void> {
    const lane = this.laneOf(frame.cameraId);
    lane.lastFrameAtMs = this.nowMs();
    this.deps.metrics.recordFrame(frame.cameraId, frame.receivedAtMs);
    lane.accepted += 1;
    return this.scheduler.offer(frame);
  }

  /**
   * Ends a camera's tracks once every frame it handed in so far is analysed and tracked, for a
   * replay that reached the end of its files or a live camera that went quiet.
   */
  async endCamera(cameraId: string): Promise<void> {
    const lane = this.laneOf(cameraId);
    while (!this.stopping && lane.finished < lane.accepted) await new Promise<void>((resolve) => lane.idleWaiters.push(resolve));
    lane.chain = lane.chain.then(() => lane.events.endAll()).catch((error: Error) => this.logEventFailure(lane, error));
    return lane.chain;
  }

  stats(): { cameras: Record<string, CameraPipelineStats>; errors: { evidence: number; 'hit-hook': number } } {
    const cameras = Object.fromEntries([...this.lanes].map(([id, lane]) => [id, { ...lane.stats }]));
    return { cameras, errors: { ...this.errorCounts } };
  }

  /**
   * Stops taking frames, finishes the frames being analysed, then ends every track so that each
   * open sighting is committed. Frames still waiting in the scheduler are discarded.
   */
  async stop(): Promise<void> {
    if (this.staleTimer !== null) clearInterval(this.staleTimer);
    this.stopping = true;
    this.scheduler.close();
    await Promise.all(this.loops);
    // Frames the closed scheduler discarded never finish, so waiters stop waiting for them.
    for (const lane of this.lanes.values()) for (const resolve of lane.idleWaiters.splice(0)) resolve();
    await Promise.all([...this.lanes.keys()].map((cameraId) => this.endCamera(cameraId)));
  }

  private createLane(camera: PipelineCamera, prefix: string): Lane {
    let trackCount = 0;
    const lane: Lane = {
      camera,
      events: new CameraEvents({
        carId: this.deps.carId,
        cameraId: camera.id,
        outbox: this.deps.outbox,
        logger: this.deps.logger,
        tracking: this.deps.tracking ?? DEFAULT_CAMERA_TRACKS_OPTIONS,
        newTrackId: () => `${prefix}-${camera.id}-${(++trackCount).toString(36)}`.slice(-64),
        hitHook: this.deps.hitHook ?? null,
        positionAt: this.deps.positionAt ?? (() => undefined),
        clockOffsetMs: this.deps.clockOffsetMs ?? (() => null),
        nowMs: this.nowMs,
        onCommitted: (event) => this.onCommitted(lane, event),
        onError: (kind) => (this.errorCounts[kind] += 1),
      }),
      nextToApply: 0,
      ready: new Map(),
      chain: Promise.resolve(),
      backlog: 0,
      accepted: 0,
      finished: 0,
      idleWaiters: [],
      lastFrameAtMs: null,
      stats: { analysed: 0, dropped: 0, failed: 0, events: 0, hits: 0 },
    };
    return lane;
  }

  private laneOf(cameraId: string): Lane {
    const lane = this.lanes.get(cameraId);
    if (lane === undefined) throw new RangeError(`camera "${cameraId}" is not configured in the pipeline; add it to the agent config`);
    return lane;
  }

  private async runSlot(): Promise<void> {
    for (let frame = await this.scheduler.next(); frame !== null; frame = await this.scheduler.next()) {
      const lane = this.laneOf(frame.cameraId);
      const ticket = this.scheduler.sequenceOf(frame);
      lane.ready.set(ticket, await this.analyse(lane, frame));
      this.applyReady(lane);
      this.finish(lane);
      // Event work (JPEG encoding, outbox commits) runs beside inference. A camera whose event work
      // falls behind waits here, so analysed frames never pile up in memory.
      while (lane.backlog > MAX_EVENT_BACKLOG) await lane.chain;
    }
  }

  /** Runs the models on one frame; returns null when the analysis failed, which is logged and counted. */
  private async analyse(lane: Lane, frame: PipelineFrame): Promise<AnalysedCameraFrame | null> {
    const inferenceStartedAtMs = this.nowMs();
    let analysis: FrameAnalysis;
    try {
      analysis = await this.deps.engine.analyse({ image: frame.image, analyses: lane.camera.analyses, roiPx: roiPixels(lane.camera.roi, frame.image) });
    } catch (error) {
      lane.stats.failed += 1;
      this.deps.metrics.frameErrors.inc({ camera: frame.cameraId });
      this.deps.logger.error({ camera: frame.cameraId, frame: frame.index, err: (error as Error).message }, 'frame analysis failed');
      return null;
    }
    const analysedAtMs = this.nowMs();
    lane.stats.analysed += 1;
    this.deps.metrics.observeAnalysis(frame.cameraId, analysis.timingsMs, analysedAtMs - inferenceStartedAtMs);
    return {
      image: frame.image,
      atMs: frame.mediaTimeMs ?? frame.receivedAtMs,
      stamp: { receivedAtMs: frame.receivedAtMs, inferenceStartedAtMs, analysedAtMs },
      analysis,
    };
  }

  private finish(lane: Lane): void {
    lane.finished += 1;
    if (lane.finished < lane.accepted) return;
    for (const resolve of lane.idleWaiters.splice(0)) resolve();
  }

  /** Hands the results that are next in frame order to the camera's event work, one at a time. */
  private applyReady(lane: Lane): void {
    while (lane.ready.has(lane.nextToApply)) {
      const result = lane.ready.get(lane.nextToApply)!;
      lane.ready.delete(lane.nextToApply);
      lane.nextToApply += 1;
      if (result === null) continue;
      lane.backlog += 1;
      lane.chain = lane.chain
        .then(() => lane.events.apply(result))
        .then(() => this.deps.onFrameDone?.(lane.camera.id, result.stamp, this.nowMs()))
        .catch((error: Error) => this.logEventFailure(lane, error))
        .finally(() => (lane.backlog -= 1));
    }
  }

  /** Ends the tracks of live cameras that sent no frame for a while, so their sightings are not held back. */
  private endStaleTracks(): void {
    const staleAfterMs = Math.max(5000, 2 * (this.deps.tracking ?? DEFAULT_CAMERA_TRACKS_OPTIONS).boxes.lostAfterMs);
    for (const lane of this.lanes.values()) {
      if (lane.camera.backPressure || lane.lastFrameAtMs === null || lane.backlog > 0) continue;
      if (this.nowMs() - lane.lastFrameAtMs < staleAfterMs) continue;
      lane.lastFrameAtMs = null;
      this.deps.logger.info({ camera: lane.camera.id, staleAfterMs }, 'no frames from camera; ending its tracks');
      void this.endCamera(lane.camera.id);
    }
  }

  private onCommitted(lane: Lane, event: CommittedEvent): void {
    lane.stats.events += 1;
    if (event.role === 'hit') {
      lane.stats.hits += 1;
      this.deps.metrics.carHits.inc({ kind: event.kind });
      this.deps.logger.info({ camera: event.cameraId, kind: event.kind, seq: event.seq }, 'hit raised on the car');
    }
    this.deps.metrics.eventsCommitted.inc();
    this.deps.onCommitted?.(event);
  }

  private logEventFailure(lane: Lane, error: Error): void {
    this.deps.logger.error({ camera: lane.camera.id, err: error.message }, 'event work for a frame failed; its reads are lost');
  }
}

/** Converts a fractional region of interest into pixels of the frame. */
export function roiPixels(roi: PipelineCamera['roi'], image: Pick<RgbImage, 'width' | 'height'>): BoxXyxyPx | null {
  if (roi === undefined) return null;
  return [Math.round(roi[0] * image.width), Math.round(roi[1] * image.height), Math.round(roi[2] * image.width), Math.round(roi[3] * image.height)];
}
