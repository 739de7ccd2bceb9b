// Central entry points against the real Mosquitto: startCentral in-process with /healthz and /metrics,
// the command line with graceful shutdown on SIGTERM, and start-up failures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import type { FaceEvent, PlateEvent } from '../src/protocol/event.js';
import { eventTopic } from '../src/protocol/topics.js';
import { parseCentralConfig, startCentral } from '../src/central/main.js';
import type { Hit } from '../src/central/hit.js';
import { CascadeFaceEmbedder } from '../src/matching/cascade-embedder.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';
const silent = pino({ level: 'silent' });

function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

function workDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'central-main-'));
  writeFileSync(path.join(dir, 'hotlist.csv'), 'plate,reason,priority\n川A8H458,stolen vehicle,1\n');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function rawConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    broker: { url: BROKER_URL, clientId: uniqueId('central-main-test'), sessionExpirySec: 5, shareGroup: uniqueId('test') },
    database: 'central.sqlite',
    hotlist: 'hotlist.csv',
    http: { port: 0 },
    ...extra,
  };
}

function faceEvent(carId: string, seq: number, embedding: number[]): FaceEvent {
  const nowMs = Date.now();
  return {
    v: 1,
    kind: 'face',
    carId,
    seq,
    cameraId: 'cam8',
    frameReceivedAtMs: nowMs - 300,
    analysedAtMs: nowMs - 120,
    committedAtMs: nowMs - 100,
    clockOffsetMs: null,
    stages: { queueMs: 5, inferenceMs: 40 },
    evidence: [],
    face: { box: [0, 0, 100, 120], landmarks: [[30, 40], [70, 40], [50, 60], [35, 85], [65, 85]], score: 0.9, quality: 0.8, embedding },
  };
}

function plateEvent(carId: string, seq: number, text: string): PlateEvent {
  const nowMs = Date.now();
  return {
    v: 1,
    kind: 'plate',
    carId,
    seq,
    cameraId: 'cam1',
    frameReceivedAtMs: nowMs - 300,
    analysedAtMs: nowMs - 120,
    committedAtMs: nowMs - 100,
    clockOffsetMs: null,
    stages: { queueMs: 5, inferenceMs: 80 },
    evidence: [],
    plate: { text, format: 'standard', color: 'blue', rows: 1, confidence: 0.9, box: [0, 0, 10, 5], corners: [[0, 0], [10, 0], [10, 5], [0, 5]] },
  };
}

test('startCentral – serves health and metrics, raises hits', async () => {
  const { dir, cleanup } = workDir();
  const running = await startCentral(parseCentralConfig(rawConfig(), dir), { logger: silent });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const carId = uniqueId('test');
  try {
    assert.match(running.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${running.httpUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', brokerConnected: true, databaseOpen: true });

    const hit = new Promise<Hit>((resolve) => running.service.on('hit', (raised) => raised.carId === carId && resolve(raised)));
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(plateEvent(carId, 1, '川A8H458')), { qos: 1 });
    assert.equal((await hit).matched.reason, 'stolen vehicle');

    const metrics = await (await fetch(`${running.httpUrl}/metrics`)).text();
    assert.match(metrics, /^patrol_central_hits_total\{kind="plate"\} 1$/m);
    assert.match(metrics, /^patrol_central_events_stored_total\{kind="plate"\} [1-9]\d*$/m);
    assert.match(metrics, /^patrol_central_ingest_duration_seconds_count [1-9]\d*$/m);
  } finally {
    await publisher.endAsync();
    await running.stop();
    cleanup();
  }
  await assert.rejects(fetch(`${running.httpUrl}/healthz`), 'the HTTP server should be closed after stop');
});

test('startCentral – receives events queued while it was down', async () => {
  const { dir, cleanup } = workDir();
  const config = parseCentralConfig(rawConfig(), dir);
  const carId = uniqueId('test');
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  try {
    const first = await startCentral(config, { logger: silent });
    await first.stop();

    // The persistent session keeps the subscription, so the broker queues these for the next start.
    for (let seq = 1; seq <= 3; seq++) await publisher.publishAsync(eventTopic(carId), JSON.stringify(plateEvent(carId, seq, '沪B12345')), { qos: 1 });

    const second = await startCentral(config, { logger: silent });
    try {
      const deadline = Date.now() + 5000;
      while ((await second.store.countEvents(carId)) < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await second.store.countEvents(carId), 3);
    } finally {
      await second.stop();
    }
  } finally {
    await publisher.endAsync();
    cleanup();
  }
});

test('startCentral – fails fast when the broker is unreachable', async () => {
  const { dir, cleanup } = workDir();
  try {
    const config = parseCentralConfig(rawConfig({ broker: { url: 'mqtt://127.0.0.1:1', connectTimeoutMs: 500 } }), dir);
    const startedAtMs = Date.now();
    await assert.rejects(startCentral(config, { logger: silent }), (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'BROKER_CONNECT_TIMEOUT');
      assert.match((error as Error).message, /could not connect to the broker at mqtt:\/\/127\.0\.0\.1:1 within 500 ms/);
      return true;
    });
    assert.ok(Date.now() - startedAtMs < 3000);
  } finally {
    cleanup();
  }
});

test('startCentral – fails on a missing models folder', async () => {
  const { dir, cleanup } = workDir();
  try {
    const config = parseCentralConfig(rawConfig({ modelsDir: 'no-models-here', watchlist: [{ subjectId: 'subject-a', label: 'a', photos: ['a.png'] }] }), dir);
    await assert.rejects(startCentral(config, { logger: silent }), { code: 'MODEL_MISSING' });
  } finally {
    cleanup();
  }
});

test('startCentral – fails on a missing broker secret', async () => {
  const { dir, cleanup } = workDir();
  try {
    const noPassword = parseCentralConfig(rawConfig({ broker: { url: BROKER_URL, username: 'central', passwordEnv: 'PATROL_TEST_MISSING_BROKER_PW' } }), dir);
    await assert.rejects(startCentral(noPassword, { logger: silent }), {
      code: 'SECRET_ENV_MISSING',
      message: /environment variable PATROL_TEST_MISSING_BROKER_PW \(broker\.passwordEnv\) is not set/,
    });

    const noKey = parseCentralConfig(rawConfig({ broker: { url: 'mqtts://127.0.0.1:8883', tls: { caFile: 'ca.crt', certFile: 'central.crt', keyFile: 'central.key' } } }), dir);
    await assert.rejects(startCentral(noKey, { logger: silent }), {
      code: 'SECRET_FILE_UNREADABLE',
      message: /cannot read .*ca\.crt \(broker\.tls\.caFile\): ENOENT; check the path and that the central service's user may read it/,
    });
  } finally {
    cleanup();
  }
});

test('startCentral – enrols the watchlist and raises a face hit', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (models === null || fixtures === null) return;
  const { dir, cleanup } = workDir();
  const config = parseCentralConfig(
    rawConfig({ modelsDir: models, watchlist: [{ subjectId: 'subject-c', label: 'subject c', photos: [path.join(fixtures, 'faces/subject-c-1.jpg')] }] }),
    dir,
  );
  const running = await startCentral(config, { logger: silent });
  const embedder = await CascadeFaceEmbedder.load(models, { logger: silent });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const carId = uniqueId('test');
  try {
    assert.equal(running.lists.faceIndex.size, 1);
    const [face] = await embedder.embedFacesInFile(path.join(fixtures, 'faces/subject-c-2.jpg'));
    assert.ok(face, 'subject-c-2.jpg should contain a face');

    const hit = new Promise<Hit>((resolve) => running.service.on('hit', (raised) => raised.carId === carId && resolve(raised)));
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(faceEvent(carId, 1, Array.from(face.embedding))), { qos: 1 });
    const raised = await hit;
    assert.equal(raised.kind, 'face');
    assert.deepEqual(raised.matched, { subjectId: 'subject-c', listId: 'default', label: 'subject c' });
    assert.ok(raised.score >= 0.4, `score ${raised.score} should reach the threshold`);
  } finally {
    await publisher.endAsync();
    await embedder.close();
    await running.stop();
    cleanup();
  }
});

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; once `ready` appears on stdout, sends SIGTERM. */
function runCli(configPath: string, ready: RegExp | null): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/central/main.ts', '--config', configPath], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (ready !== null && !signalled && ready.test(stdout)) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

test('central CLI – shuts down cleanly on SIGTERM', async () => {
  const { dir, cleanup } = workDir();
  try {
    const configPath = path.join(dir, 'central.json');
    writeFileSync(configPath, JSON.stringify(rawConfig()));
    const run = await runCli(configPath, /"msg":"http endpoints listening"/);
    assert.equal(run.code, 0, `exit code; stderr: ${run.stderr}`);
    const messages = run.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
    // Other clients of a shared broker may add lines in between, so the order is checked, not adjacency.
    const shutdown = messages.indexOf('shutting down');
    assert.ok(shutdown >= 0, 'shutdown is logged');
    const serviceStopped = messages.indexOf('central service stopped', shutdown);
    assert.ok(serviceStopped > shutdown, `the service stops after shutdown begins; lines: ${messages.join(' | ')}`);
    assert.equal(messages.at(-1), 'central stopped', 'the last line says the process has stopped');
  } finally {
    cleanup();
  }
});

test('central CLI – exits 2 naming the invalid field', async () => {
  const { dir, cleanup } = workDir();
  try {
    const configPath = path.join(dir, 'central.json');
    writeFileSync(configPath, JSON.stringify(rawConfig({ faceThreshold: 'high' })));
    const run = await runCli(configPath, null);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /faceThreshold: should be a number \(got "high"\)/);
    assert.match(run.stderr, /\[CONFIG_INVALID\]/);
  } finally {
    cleanup();
  }
});
