// The agent's health: what /healthz reports and what the systemd watchdog pings on. Degraded parts
// (uplink down, a camera silent, no GPS fix) are reported; only a stalled pipeline is unhealthy.
import type { OutboxStats } from '../uplink/outbox.js';

export interface HealthInputs {
  nowMs: number;
  uplinkConnected: boolean;
  outbox: OutboxStats | null;
  /** Time the last frame arrived from any camera, and the last frame analysed, ms since the epoch. */
  lastFrameAtMs: number | null;
  lastAnalysedAtMs: number | null;
  cameras: Array<{ cameraId: string; lastFrameAtMs: number | null; restarts: number }>;
  clockOffsetMs: number | null;
  /** true or false with a GPS receiver configured, null without one. */
  gpsFix: boolean | null;
  listVersions: Record<string, number> | null;
  /** The agent's receipt timeout (broker.receiptTimeoutSec) in ms; absent means the 30 s default. */
  receiptTimeoutMs?: number;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'unhealthy';
  problems: string[];
  uplinkConnected: boolean;
  outboxDepth: number | null;
  outboxOldestAgeMs: number | null;
  hitsWaiting: number | null;
  /** Events the broker acknowledged that still wait for the central service's receipt. */
  awaitingReceipt: number | null;
  /** Events the central service rejected, kept in the outbox quarantine table. */
  quarantined: number | null;
  lastSeq: number | null;
  cameras: Array<{ cameraId: string; lastFrameAgeMs: number | null; restarts: number }>;
  clockOffsetMs: number | null;
  gpsFix: boolean | null;
  listVersions: Record<string, number> | null;
}

/** A camera silent this long is reported; the reader's own watchdog restarts it much sooner. */
export const CAMERA_SILENT_MS = 10_000;
/** Frames arriving but none analysed for this long means the pipeline has stalled. */
export const PIPELINE_STALL_MS = 60_000;
/**
 * With the uplink connected, an event this old still in the outbox means the central service is
 * not receipting. It is twice the receipt timeout (30 s by default), so one resend has had its chance.
 */
export const OUTBOX_STALE_MS = 60_000;
const DEFAULT_RECEIPT_TIMEOUT_MS = 30_000;

export function assessHealth(inputs: HealthInputs): HealthReport {
  const problems: string[] = [];
  const { nowMs } = inputs;
  const stalled = inputs.lastFrameAtMs !== null && nowMs - inputs.lastFrameAtMs < PIPELINE_STALL_MS && nowMs - (inputs.lastAnalysedAtMs ?? 0) >= PIPELINE_STALL_MS;
  if (stalled) problems.push(`frames arrive but none was analysed for ${Math.round(PIPELINE_STALL_MS / 1000)} s`);
  if (!inputs.uplinkConnected) problems.push('uplink down; events wait in the outbox');
  const cameras = inputs.cameras.map((camera) => ({
    cameraId: camera.cameraId,
    lastFrameAgeMs: camera.lastFrameAtMs === null ? null : nowMs - camera.lastFrameAtMs,
    restarts: camera.restarts,
  }));
  for (const camera of cameras) {
    if (camera.lastFrameAgeMs === null || camera.lastFrameAgeMs > CAMERA_SILENT_MS) problems.push(`camera ${camera.cameraId} delivers no frames`);
  }
  if (inputs.gpsFix === false) problems.push('no GPS fix');
  if (inputs.clockOffsetMs === null) problems.push('clock offset to the central service not measured yet');

  const outbox = inputs.outbox;
  const oldestAgeMs = outbox?.oldestCreatedAtMs == null ? null : nowMs - outbox.oldestCreatedAtMs;
  const staleMs = Math.max(OUTBOX_STALE_MS, 2 * (inputs.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS));
  if (inputs.uplinkConnected && oldestAgeMs !== null && oldestAgeMs >= staleMs) {
    problems.push(`uplink connected, but the oldest event has waited ${Math.round(oldestAgeMs / 1000)} s for the central service's receipt; check the central service`);
  }
  if (outbox != null && outbox.quarantined > 0) {
    problems.push(`${outbox.quarantined} events rejected by the central service are kept in the outbox quarantine table; see the agent's error log`);
  }

  let status: HealthReport['status'] = 'ok';
  if (stalled) status = 'unhealthy';
  else if (problems.length > 0) status = 'degraded';
  return {
    status,
    problems,
    uplinkConnected: inputs.uplinkConnected,
    outboxDepth: outbox?.depth ?? null,
    outboxOldestAgeMs: oldestAgeMs,
    hitsWaiting: outbox?.hits ?? null,
    awaitingReceipt: outbox?.awaitingReceipt ?? null,
    quarantined: outbox?.quarantined ?? null,
    lastSeq: outbox?.lastSeq ?? null,
    cameras,
    clockOffsetMs: inputs.clockOffsetMs,
    gpsFix: inputs.gpsFix,
    listVersions: inputs.listVersions,
  };
}
