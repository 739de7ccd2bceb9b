// Prometheus metrics of the agent: frames per camera, drops, restarts, analysis latency per model
// stage, outbox depth and age, evictions, uplink state, clock offset, GPS fix and lists on the car.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS_MS = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560];

/** Camera state the metrics read at scrape time; the capture code owns it. */
export interface CameraProbe {
  cameraId: string;
  /** ffmpeg restarts since the agent started. */
  restarts(): number;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly framesIn = new Counter({ name: 'agent_frames_in_total', help: 'Frames read from ffmpeg', labelNames: ['camera'], registers: [this.registry] });
  readonly framesAnalysed = new Counter({ name: 'agent_frames_analysed_total', help: 'Frames run through the cascade', labelNames: ['camera'], registers: [this.registry] });
  readonly framesDropped = new Counter({ name: 'agent_frames_dropped_total', help: 'Frames replaced by a newer frame before analysis', labelNames: ['camera'], registers: [this.registry] });
  readonly cameraStartFailures = new Counter({ name: 'agent_camera_start_failures_total', help: 'Cameras whose source could not be started (for example a missing replay file)', labelNames: ['camera'], registers: [this.registry] });
  readonly frameErrors = new Counter({ name: 'agent_frame_errors_total', help: 'Frames whose analysis failed', labelNames: ['camera'], registers: [this.registry] });
  readonly modelLatencyMs = new Histogram({ name: 'agent_model_latency_ms', help: 'Inference time per stage and frame, ms', labelNames: ['stage'], buckets: LATENCY_BUCKETS_MS, registers: [this.registry] });
  readonly eventsCommitted = new Counter({ name: 'agent_events_committed_total', help: 'Events committed to the outbox', registers: [this.registry] });
  readonly eventsAcked = new Counter({ name: 'agent_events_acked_total', help: 'Events acknowledged by the broker', registers: [this.registry] });
  readonly eventsConfirmed = new Counter({ name: 'agent_events_confirmed_total', help: 'Events the central service receipted as stored', registers: [this.registry] });
  readonly eventsResent = new Counter({ name: 'agent_events_resent_total', help: 'Events sent again because their central receipt was overdue', registers: [this.registry] });
  readonly eventsQuarantined = new Counter({ name: 'agent_events_quarantined_total', help: 'Events the central service rejected, set aside in the outbox quarantine', labelNames: ['code'], registers: [this.registry] });
  readonly receiptsUnmatched = new Counter({ name: 'agent_receipts_unmatched_total', help: 'Rejection receipt entries naming no event in the outbox (wrong sequence number or digest), ignored', registers: [this.registry] });
  readonly receiptsInvalid = new Counter({ name: 'agent_receipts_invalid_total', help: 'Receipt messages that failed validation and were ignored', registers: [this.registry] });
  readonly outboxAwaitingReceipt = new Gauge({ name: 'agent_outbox_awaiting_receipt', help: 'Events the broker acknowledged that wait for the central receipt', registers: [this.registry] });
  readonly outboxQuarantined = new Gauge({ name: 'agent_outbox_quarantined', help: 'Events kept in the outbox quarantine table', registers: [this.registry] });
  readonly outboxDepth = new Gauge({ name: 'agent_outbox_depth', help: 'Events waiting in the outbox', registers: [this.registry] });
  readonly outboxOldestAgeMs = new Gauge({ name: 'agent_outbox_oldest_age_ms', help: 'Age of the oldest event in the outbox, ms', registers: [this.registry] });
  readonly outboxBytes = new Gauge({ name: 'agent_outbox_bytes', help: 'Payload bytes waiting in the outbox, by part', labelNames: ['part'], registers: [this.registry] });
  readonly evictions = new Counter({ name: 'agent_outbox_evictions_total', help: 'Events that lost their evidence (kind=evidence) or were deleted unsent (kind=event) to keep the disk budget', labelNames: ['kind', 'cap'], registers: [this.registry] });
  readonly evictedBytes = new Counter({ name: 'agent_outbox_evicted_bytes_total', help: 'Bytes freed by evictions', labelNames: ['kind'], registers: [this.registry] });
  readonly uplinkUp = new Gauge({ name: 'agent_uplink_up', help: '1 while connected to the broker', registers: [this.registry] });
  readonly uplinkConnects = new Counter({ name: 'agent_uplink_connects_total', help: 'Successful connections to the broker', registers: [this.registry] });
  readonly clockOffsetMs = new Gauge({ name: 'agent_clock_offset_ms', help: 'Central clock minus car clock from the last measurement, ms', registers: [this.registry] });
  readonly clockRoundTripMs = new Gauge({ name: 'agent_clock_round_trip_ms', help: 'Round trip of the last clock measurement, ms', registers: [this.registry] });
  readonly gpsFix = new Gauge({ name: 'agent_gps_fix', help: '1 while gpsd reports a current 2D or 3D fix', registers: [this.registry] });
  readonly listVersion = new Gauge({ name: 'agent_list_version', help: 'Version of each list kept on the car', labelNames: ['list'], registers: [this.registry] });
  readonly listRejections = new Counter({ name: 'agent_list_rejections_total', help: 'List messages rejected, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly carHits = new Counter({ name: 'agent_car_hits_total', help: 'Hits raised on the car against its own lists', labelNames: ['kind'], registers: [this.registry] });
  /** Car-clock time of the last frame analysed on any camera, or null before the first. */
  lastAnalysedAtMs: number | null = null;
  private readonly lastFrameAtMs = new Map<string, number>();
  private readonly cameras: CameraProbe[] = [];

  constructor(private readonly nowMs: () => number = Date.now) {
    const lastFrames = this.lastFrameAtMs;
    const cameras = this.cameras;
    const now = this.nowMs;
    new Gauge({
      name: 'agent_camera_last_frame_age_ms',
      help: 'Time since the last frame of each camera, ms',
      labelNames: ['camera'],
      registers: [this.registry],
      collect() {
        for (const [camera, atMs] of lastFrames) this.set({ camera }, Math.max(0, now() - atMs));
      },
    });
    new Gauge({
      name: 'agent_camera_restarts',
      help: 'ffmpeg restarts of each camera since the agent started',
      labelNames: ['camera'],
      registers: [this.registry],
      collect() {
        for (const camera of cameras) this.set({ camera: camera.cameraId }, camera.restarts());
      },
    });
  }

  /** Counts a frame read from a camera and remembers when it arrived. */
  recordFrame(cameraId: string, receivedAtMs: number): void {
    this.framesIn.inc({ camera: cameraId });
    this.lastFrameAtMs.set(cameraId, receivedAtMs);
  }

  watchCamera(probe: CameraProbe): void {
    this.cameras.push(probe);
  }

  /** Returns each watched or seen camera with the time of its last frame and its restarts, for the health report. */
  cameraStates(): Array<{ cameraId: string; lastFrameAtMs: number | null; restarts: number }> {
    const ids = new Set([...this.cameras.map((camera) => camera.cameraId), ...this.lastFrameAtMs.keys()]);
    return [...ids].map((cameraId) => ({
      cameraId,
      lastFrameAtMs: this.lastFrameAtMs.get(cameraId) ?? null,
      restarts: this.cameras.find((camera) => camera.cameraId === cameraId)?.restarts() ?? 0,
    }));
  }

  /** Time of the last frame from any camera, or null before the first. */
  lastFrameFromAnyCameraAtMs(): number | null {
    return this.lastFrameAtMs.size === 0 ? null : Math.max(...this.lastFrameAtMs.values());
  }

  observeAnalysis(cameraId: string, timingsMs: Record<string, number>, totalMs: number): void {
    this.framesAnalysed.inc({ camera: cameraId });
    this.lastAnalysedAtMs = this.nowMs();
    for (const [stage, ms] of Object.entries(timingsMs)) {
      if (ms > 0) this.modelLatencyMs.observe({ stage }, ms);
    }
    this.modelLatencyMs.observe({ stage: 'total' }, totalMs);
  }
}
