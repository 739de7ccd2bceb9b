// One frozen camera must not slow the others. With two real RTSP cameras, the ffmpeg of one is
// stopped with SIGSTOP. The other keeps its analysed frame rate, and the frozen one is restarted
// by the watchdog and delivers frames again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { Agent } from '../agent/agent.js';
import { createCameraSource } from '../agent/capture/camera-source.js';
import { parseAgentConfig } from '../agent/config.js';
import { startEmbeddedBroker } from '../src/broker/embedded.js';
import { makeDriveByClip } from '../src/video/clips.js';
import { startRtspCameras } from '../src/video/rtsp-server.js';
import { fixturesDir, modelsDir, rtspCamerasAvailable } from './support/assets.js';

const ANALYSIS_FPS = 2;
const FROZEN_MS = 6000;

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('frozen camera – others keep their rate', { timeout: 120_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  if (!(await rtspCamerasAvailable(t))) return;
  const logger = pino({ level: 'silent' });
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-frozen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clips = { steady: path.join(dir, 'steady.h264'), frozen: path.join(dir, 'frozen.h264') };
  await makeDriveByClip(path.join(fixtures, 'plates', 'double_yellow.jpg'), clips.steady, { seconds: 4, width: 640, height: 360, fps: 25 });
  await makeDriveByClip(path.join(fixtures, 'plates', 'single_blue.jpg'), clips.frozen, { seconds: 4, width: 640, height: 360, fps: 25 });

  const rtsp = await startRtspCameras({ port: 0, logger, cameras: Object.entries(clips).map(([name, clipPath]) => ({ name, clipPath, fps: 25 })) });
  t.after(() => rtsp.stop());
  const broker = await startEmbeddedBroker(logger);
  t.after(() => broker.close());

  const config = parseAgentConfig(
    {
      carId: `test-frozen-${process.pid}`,
      broker: { url: broker.url, protocolVersion: broker.protocolVersion },
      dataDir: path.join(dir, 'agent'),
      modelsDir: models,
      cameras: Object.keys(clips).map((id) => ({ id, source: rtsp.urls[id]!, analysisFps: ANALYSIS_FPS, width: 640, height: 360, analyses: ['plates'] })),
    },
    'test',
  );
  const agent = new Agent({ config, logger, createFrameSource: createCameraSource });
  await agent.start();
  t.after(() => agent.stop(1000));
  const analysed = (id: string) => agent.pipelineStats()?.cameras[id]?.analysed ?? 0;
  await waitFor(() => analysed('steady') >= 2 && analysed('frozen') >= 2, 30_000, 'frames from both cameras');

  const frozenSource = agent.sources.get('frozen')!;
  const frozenPid = frozenSource.stats!().pid;
  assert.ok(frozenPid !== null, 'the frozen camera runs an ffmpeg');
  const steadyBefore = analysed('steady');
  const frozenBefore = analysed('frozen');
  process.kill(frozenPid, 'SIGSTOP');
  // Within the watchdog's 4 s the stopped camera delivers at most the frame already in flight.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.ok(analysed('frozen') - frozenBefore <= 1, 'the frozen camera delivers nothing while stopped');
  await new Promise((resolve) => setTimeout(resolve, FROZEN_MS - 3000));

  const steadyFrames = analysed('steady') - steadyBefore;
  const expected = (ANALYSIS_FPS * FROZEN_MS) / 1000;
  assert.ok(steadyFrames >= 0.75 * expected, `the steady camera should keep about ${expected} frames in ${FROZEN_MS} ms, got ${steadyFrames}`);

  // The watchdog (4 s without a frame) kills the stopped ffmpeg and starts a new one.
  await waitFor(() => frozenSource.stats!().restarts >= 1, 10_000, 'the watchdog to restart the frozen camera');
  assert.notEqual(frozenSource.stats!().pid, frozenPid);
  const frozenAfterRestart = analysed('frozen');
  await waitFor(() => analysed('frozen') > frozenAfterRestart, 20_000, 'frames from the restarted camera');
});
