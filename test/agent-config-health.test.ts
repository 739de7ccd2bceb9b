// The agent's /metrics and /healthz on a real HTTP server, with real metrics and a real outbox:
// the per-camera, per-model, outbox and uplink series exist, and a stalled pipeline returns 503.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startMetricsServer } from '../agent/metrics-server.js';
import { AgentMetrics } from '../agent/metrics.js';
import { assessHealth, OUTBOX_STALE_MS, PIPELINE_STALL_MS, type HealthInputs } from '../agent/ops/health.js';
import { Outbox } from '../agent/uplink/outbox.js';

const healthy: HealthInputs = {
  nowMs: 1_000_000,
  uplinkConnected: true,
  outbox: { depth: 0, oldestCreatedAtMs: null, lastSeq: 7, hits: 0, payloadBytes: 0, evidenceBytes: 0, awaitingReceipt: 0, quarantined: 0 },
  lastFrameAtMs: 999_900,
  lastAnalysedAtMs: 999_800,
  cameras: [{ cameraId: 'front', lastFrameAtMs: 999_900, restarts: 0 }],
  clockOffsetMs: 12,
  gpsFix: true,
  listVersions: { hotlist: 3, watchlist: 1 },
};

test('health – ok, degraded and unhealthy', () => {
  assert.equal(assessHealth(healthy).status, 'ok');
  assert.deepEqual(assessHealth(healthy).problems, []);

  const offline = assessHealth({ ...healthy, uplinkConnected: false, gpsFix: false });
  assert.equal(offline.status, 'degraded');
  assert.deepEqual(offline.problems, ['uplink down; events wait in the outbox', 'no GPS fix']);

  const silentCamera = assessHealth({ ...healthy, cameras: [{ cameraId: 'front', lastFrameAtMs: 980_000, restarts: 4 }] });
  assert.deepEqual(silentCamera.problems, ['camera front delivers no frames']);
  assert.equal(silentCamera.cameras[0]!.restarts, 4);

  const stalled = assessHealth({ ...healthy, lastAnalysedAtMs: healthy.nowMs - PIPELINE_STALL_MS });
  assert.equal(stalled.status, 'unhealthy', 'frames arrive but none is analysed');
  const noFrames = assessHealth({ ...healthy, lastFrameAtMs: healthy.nowMs - PIPELINE_STALL_MS - 1, lastAnalysedAtMs: 0, cameras: [] });
  assert.notEqual(noFrames.status, 'unhealthy', 'no camera delivering is degraded, not a stalled pipeline');
});

test('health – receipts overdue and quarantine', () => {
  const waiting = { ...healthy.outbox!, depth: 5, awaitingReceipt: 5, oldestCreatedAtMs: healthy.nowMs - OUTBOX_STALE_MS };
  const noReceipts = assessHealth({ ...healthy, outbox: waiting });
  assert.equal(noReceipts.status, 'degraded');
  assert.deepEqual(noReceipts.problems, ["uplink connected, but the oldest event has waited 60 s for the central service's receipt; check the central service"]);
  assert.equal(noReceipts.awaitingReceipt, 5);

  const offline = assessHealth({ ...healthy, uplinkConnected: false, outbox: waiting });
  assert.deepEqual(offline.problems, ['uplink down; events wait in the outbox'], 'offline, an old backlog is expected and not reported twice');

  const recent = assessHealth({ ...healthy, outbox: { ...waiting, oldestCreatedAtMs: healthy.nowMs - 1000 } });
  assert.equal(recent.status, 'ok', 'a backlog younger than the limit is normal');

  const longTimeout = assessHealth({ ...healthy, outbox: waiting, receiptTimeoutMs: 300_000 });
  assert.equal(longTimeout.status, 'ok', 'with a 300 s receipt timeout, a 60 s old event is not overdue');

  const quarantined = assessHealth({ ...healthy, outbox: { ...healthy.outbox!, quarantined: 2 } });
  assert.equal(quarantined.status, 'degraded');
  assert.deepEqual(quarantined.problems, ["2 events rejected by the central service are kept in the outbox quarantine table; see the agent's error log"]);
  assert.equal(quarantined.quarantined, 2);
});

test('metrics server – series and health codes', async () => {
  const nowMs = 5_000_000;
  const metrics = new AgentMetrics(() => nowMs);
  metrics.watchCamera({ cameraId: 'front', restarts: () => 2 });
  metrics.recordFrame('front', nowMs - 1500);
  metrics.observeAnalysis('front', { objects: 30, plates: 12 }, 45);
  metrics.uplinkUp.set(1);
  const outbox = new Outbox(':memory:', () => nowMs - 4000);
  outbox.append((seq) => ({ topic: 't', payload: Buffer.from(JSON.stringify({ seq, evidence: [{ jpegBase64: 'AAAA' }] })) }));
  let inputs: HealthInputs = healthy;
  const server = await startMetricsServer(0, { metrics, outboxStats: () => outbox.stats(), health: () => assessHealth(inputs) }, pino({ level: 'silent' }));
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const expectedLines = [
      'agent_frames_in_total{camera="front"} 1',
      'agent_frames_analysed_total{camera="front"} 1',
      'agent_camera_last_frame_age_ms{camera="front"} 1500',
      'agent_camera_restarts{camera="front"} 2',
      'agent_model_latency_ms_count{stage="objects"} 1',
      'agent_model_latency_ms_count{stage="total"} 1',
      'agent_outbox_depth 1',
      'agent_outbox_bytes{part="evidence"} 4',
      'agent_uplink_up 1',
    ];
    for (const line of expectedLines) assert.ok(text.includes(line), `${line} in /metrics`);
    assert.match(text, /agent_outbox_oldest_age_ms \d+/);

    const ok = await fetch(`${server.url}/healthz`);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { status: string }).status, 'ok');
    inputs = { ...healthy, lastAnalysedAtMs: 0 };
    const stalled = await fetch(`${server.url}/healthz`);
    assert.equal(stalled.status, 503);
  } finally {
    await server.close();
    outbox.close();
  }
});
