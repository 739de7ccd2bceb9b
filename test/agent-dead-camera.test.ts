// A camera that does not respond must not stop the others: the agent keeps analysing the working
// camera and logs the dead one's failure with the camera id and ffmpeg's own words.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { Agent } from '../agent/agent.js';
import { createCameraSource } from '../agent/capture/camera-source.js';
import { parseAgentConfig } from '../agent/config.js';
import { makeDriveByClip } from '../src/video/clips.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';

/** Returns a loopback port with no listener: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('agent – dead or missing camera does not stop others', { timeout: 60_000 }, async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-dead-camera-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clip = path.join(dir, 'good.h264');
  await makeDriveByClip(path.join(fixtures, 'plates', 'double_yellow.jpg'), clip, { seconds: 3, width: 1280, height: 720, fps: 25 });

  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const config = parseAgentConfig(
    {
      carId: `test-dead-${process.pid}`,
      broker: { url: BROKER_URL },
      dataDir: path.join(dir, 'agent'),
      modelsDir: models,
      cameras: [
        { id: 'good', source: clip, sourceFps: 25, analysisFps: 2, width: 1280, height: 720, analyses: ['plates'] },
        { id: 'dead', source: `rtsp://127.0.0.1:${await closedPort()}/cam`, analysisFps: 2, analyses: ['plates'] },
        { id: 'missing', source: path.join(dir, 'no-such-clip.mp4'), analysisFps: 2, analyses: ['plates'] },
      ],
    },
    'test',
  );
  const agent = new Agent({ config, logger, createFrameSource: createCameraSource });
  await agent.start();
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const cameraStates = agent.metrics.cameraStates();
  await agent.stop(5000);

  const missingState = cameraStates.find((camera) => camera.cameraId === 'missing');
  assert.deepEqual(missingState, { cameraId: 'missing', lastFrameAtMs: null, restarts: 0 }, 'the camera that could not start is watched, so /healthz lists it');

  const analysed = await agent.metrics.framesAnalysed.get();
  const byCamera = Object.fromEntries(analysed.values.map((value) => [value.labels.camera, value.value]));
  assert.ok((byCamera.good ?? 0) >= 4, `the working camera should keep being analysed, got ${byCamera.good ?? 0} frames`);
  assert.equal(byCamera.dead ?? 0, 0);

  const restarts = lines.filter((line) => line.camera === 'dead' && line.msg === 'ffmpeg ended, restarting');
  assert.ok(restarts.length >= 1, 'the dead camera should be logged as restarting');
  assert.match(String(restarts[0]!.stderr), /refused/i, 'the log should carry ffmpeg\'s reason');
  const missing = lines.find((line) => line.camera === 'missing' && line.msg === 'camera could not be started; the other cameras keep running');
  assert.ok(missing, 'the camera with a missing replay file is logged');
  assert.match(String(missing.err), /no-such-clip\.mp4 does not exist/);
  const committed = (await agent.metrics.eventsCommitted.get()).values[0]?.value ?? 0;
  assert.ok(committed > 0, 'the working camera produced events');
});
