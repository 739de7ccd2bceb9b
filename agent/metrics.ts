// Prometheus metrics of the agent: frames per camera, drops, analysis latency, outbox and uplink.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS_MS = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560];

export class AgentMetrics {
  readonly registry = new Registry();
  readonly framesIn = new Counter({ name: 'agent_frames_in_total', help: 'Frames read from ffmpeg', labelNames: ['camera'], registers: [this.registry] });
  readonly framesAnalysed = new Counter({ name: 'agent_frames_analysed_total', help: 'Frames run through the cascade', labelNames: ['camera'], registers: [this.registry] });
  readonly framesDropped = new Counter({ name: 'agent_frames_dropped_total', help: 'Frames replaced by a newer frame before analysis', labelNames: ['camera'], registers: [this.registry] });
  readonly frameErrors = new Counter({ name: 'agent_frame_errors_total', help: 'Frames whose analysis failed', labelNames: ['camera'], registers: [this.registry] });
  readonly modelLatencyMs = new Histogram({ name: 'agent_model_latency_ms', help: 'Inference time per stage and frame, ms', labelNames: ['stage'], buckets: LATENCY_BUCKETS_MS, registers: [this.registry] });
  readonly eventsCommitted = new Counter({ name: 'agent_events_committed_total', help: 'Events committed to the outbox', registers: [this.registry] });
  readonly eventsAcked = new Counter({ name: 'agent_events_acked_total', help: 'Events acknowledged by the broker', registers: [this.registry] });
  readonly outboxDepth = new Gauge({ name: 'agent_outbox_depth', help: 'Events waiting in the outbox', registers: [this.registry] });
  readonly outboxOldestAgeMs = new Gauge({ name: 'agent_outbox_oldest_age_ms', help: 'Age of the oldest event in the outbox, ms', registers: [this.registry] });
  readonly uplinkUp = new Gauge({ name: 'agent_uplink_up', help: '1 while connected to the broker', registers: [this.registry] });

  observeAnalysis(cameraId: string, timingsMs: Record<string, number>, totalMs: number): void {
    this.framesAnalysed.inc({ camera: cameraId });
    for (const [stage, ms] of Object.entries(timingsMs)) {
      if (ms > 0) this.modelLatencyMs.observe({ stage }, ms);
    }
    this.modelLatencyMs.observe({ stage: 'total' }, totalMs);
  }
}
