// Hit-to-page latency: time from a test car publishing a hit-producing event to Mosquitto until the
// hit's row appears in the command centre in headless chromium, for a burst of hits, optionally
// with background events from other cars as load. Starts its own central service and database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hashPassword } from '../src/central/auth/password.js';
import { parseCentralConfig, type CentralConfigInput } from '../src/central/config.js';
import { startCentral, type RunningCentral } from '../src/central/start.js';
import { summarize, type Summary } from '../src/common/stats.js';
import type { PlateEvent } from '../src/protocol/event.js';
import { eventTopic } from '../src/protocol/topics.js';

export interface HitToPageOptions {
  /** MQTT 5 broker; default mqtt://127.0.0.1:1883. */
  brokerUrl?: string;
  /** Central database: a SQLite file is made in a temp folder unless this is given. */
  database?: CentralConfigInput['database'];
  /** Hits in the burst; each comes from its own car, so none folds into an earlier hit. */
  hits?: number;
  /** Gap between two hit publishes in ms; 0 publishes the burst at once. */
  hitIntervalMs?: number;
  /** Non-matching plate events per second published by other cars during the burst. */
  loadEventsPerSec?: number;
  chromiumPath?: string;
  /** Gives up on hits not shown after this long. */
  timeoutMs?: number;
}

export interface HitToPageResult {
  hits: number;
  /** Hits whose row appeared before the timeout. */
  shown: number;
  /** Latency from publish to row in ms, over the hits shown. */
  latencyMs: Summary;
  loadEventsPublished: number;
  durationMs: number;
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HOT_PLATE = '川A8H458';
const CLEAN_PLATE = '沪B12345';
const OPERATOR = 'bench-operator';
const OPERATOR_PASSWORD = 'bench operator password';

/** Measures hit-to-page latency; everything it starts is stopped before it returns. */
export async function measureHitToPage(options: HitToPageOptions = {}): Promise<HitToPageResult> {
  const settings = { brokerUrl: 'mqtt://127.0.0.1:1883', hits: 50, hitIntervalMs: 20, loadEventsPerSec: 0, chromiumPath: '/usr/bin/chromium', timeoutMs: 30_000, ...options };
  const runId = Date.now().toString(36);
  const tempDir = mkdtempSync(path.join(tmpdir(), 'bench-web-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const central = await startBenchCentral(settings.brokerUrl, settings.database ?? path.join(tempDir, 'central.sqlite'), tempDir, runId);
    stops.push(() => central.stop());
    const browser = await chromium.launchPersistentContext(path.join(tempDir, 'profile'), { executablePath: settings.chromiumPath, args: CHROMIUM_ARGS });
    stops.push(() => browser.close());
    const page = await openLiveView(browser, central.webUrl!);
    const car = await mqtt.connectAsync(settings.brokerUrl, { protocolVersion: 5, clientId: `bench-web-cars-${runId}` });
    stops.push(() => car.endAsync());

    const startedAtMs = Date.now();
    const load = startLoad(car, runId, settings.loadEventsPerSec);
    const publishedAtMs = await publishBurst(car, runId, settings.hits, settings.hitIntervalMs);
    const shownAtMs = await waitForRows(page, publishedAtMs.size, settings.timeoutMs);
    const loadEventsPublished = load.stop();

    const latencies = [...publishedAtMs].flatMap(([key, atMs]) => (shownAtMs[key] === undefined ? [] : [shownAtMs[key]! - atMs]));
    return { hits: settings.hits, shown: latencies.length, latencyMs: summarize(latencies), loadEventsPublished, durationMs: Date.now() - startedAtMs };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

async function startBenchCentral(brokerUrl: string, database: CentralConfigInput['database'], tempDir: string, runId: string): Promise<RunningCentral> {
  const config = parseCentralConfig(
    {
      broker: { url: brokerUrl, clientId: `bench-web-central-${runId}`, protocolVersion: 5, shareGroup: `bench-web-${runId}`, sessionExpirySec: 0 },
      database,
      hotlist: [{ plate: HOT_PLATE, reason: 'bench', priority: 1 }],
      http: { port: 0 },
      web: { enabled: true, port: 0, secureCookies: false },
    },
    tempDir,
  );
  const central = await startCentral(config, { logger: pino({ level: 'silent' }), registry: new Registry() });
  await central.store.createUser({ username: OPERATOR, role: 'operator', passwordHash: await hashPassword(OPERATOR_PASSWORD), disabled: false, createdAtMs: Date.now() });
  return central;
}

/** Logs in as an operator and records, in the page, when each hit row first appears. */
async function openLiveView(browser: BrowserContext, webUrl: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(webUrl);
  await page.fill('#login-form input[name=username]', OPERATOR);
  await page.fill('#login-form input[name=password]', OPERATOR_PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#live-state[data-connected="true"]');
  await page.evaluate(() => {
    const shown: Record<string, number> = {};
    (window as unknown as { hitShownAtMs: Record<string, number> }).hitShownAtMs = shown;
    new MutationObserver((mutations) => {
      const nowMs = Date.now();
      for (const mutation of mutations) {
        for (const node of mutation.addedNodes) {
          if (!(node instanceof HTMLElement) || node.dataset.carId === undefined) continue;
          const key = `${node.dataset.carId}/${node.dataset.seq}`;
          shown[key] ??= nowMs;
        }
      }
    }).observe(document.querySelector('#hits')!, { childList: true });
  });
  return page;
}

function benchPlateEvent(carId: string, seq: number, text: string): PlateEvent {
  const nowMs = Date.now();
  return {
    v: 1,
    kind: 'plate',
    carId,
    seq,
    cameraId: 'cam1-front',
    frameReceivedAtMs: nowMs,
    analysedAtMs: nowMs,
    committedAtMs: nowMs,
    clockOffsetMs: 0,
    stages: { queueMs: 0, inferenceMs: 0 },
    evidence: [],
    plate: { text, format: 'standard', color: 'blue', rows: 1, confidence: 0.95, box: [0, 0, 10, 5], corners: [[0, 0], [10, 0], [10, 5], [0, 5]] },
  };
}

/** Publishes one hit per car and returns the publish time by "carId/seq", taken just before publishing. */
async function publishBurst(car: MqttClient, runId: string, hits: number, intervalMs: number): Promise<Map<string, number>> {
  const publishedAtMs = new Map<string, number>();
  for (let index = 0; index < hits; index++) {
    const carId = `bench-hit-${runId}-${index}`;
    const payload = JSON.stringify(benchPlateEvent(carId, 1, HOT_PLATE));
    publishedAtMs.set(`${carId}/1`, Date.now());
    await car.publishAsync(eventTopic(carId), payload, { qos: 1 });
    if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return publishedAtMs;
}

/** Publishes non-matching plate events at a steady rate until stopped; returns how many were sent. */
function startLoad(car: MqttClient, runId: string, eventsPerSec: number): { stop(): number } {
  if (eventsPerSec <= 0) return { stop: () => 0 };
  let seq = 0;
  const tickMs = 10;
  const startedAtMs = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - startedAtMs) * eventsPerSec) / 1000);
    for (; seq < due; seq++) {
      const carId = `bench-load-${runId}-${seq % 20}`;
      car.publish(eventTopic(carId), JSON.stringify(benchPlateEvent(carId, seq + 1, CLEAN_PLATE)), { qos: 1 });
    }
  }, tickMs);
  return {
    stop: () => {
      clearInterval(timer);
      return seq;
    },
  };
}

async function waitForRows(page: Page, expected: number, timeoutMs: number): Promise<Record<string, number>> {
  const read = () => page.evaluate(() => ({ ...(window as unknown as { hitShownAtMs: Record<string, number> }).hitShownAtMs }));
  const deadlineMs = Date.now() + timeoutMs;
  let shown = await read();
  while (Object.keys(shown).length < expected && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    shown = await read();
  }
  return shown;
}

/** Prints the figures in the bench's line format. */
export function formatHitToPage(result: HitToPageResult, label: string): string {
  const { latencyMs } = result;
  return `hit-to-page ${label}: ${result.shown}/${result.hits} hits shown, p50 ${latencyMs.p50.toFixed(1)} ms, p99 ${latencyMs.p99.toFixed(1)} ms, max ${latencyMs.max.toFixed(1)} ms, load events ${result.loadEventsPublished}`;
}

/** Measures hit-to-page latency once with SQLite and once with PostgreSQL in a throw-away schema. */
export async function benchHitToPage(print: (line: string) => void, settings: { hits: number; hitIntervalMs: number; loadEventsPerSec: number; postgresUrl: string | undefined }): Promise<void> {
  const sqlite = await measureHitToPage({ hits: settings.hits, hitIntervalMs: settings.hitIntervalMs, loadEventsPerSec: settings.loadEventsPerSec });
  print(formatHitToPage(sqlite, `sqlite, ${settings.hitIntervalMs} ms apart, load ${settings.loadEventsPerSec}/s`));
  if (settings.postgresUrl === undefined) return;

  const schema = `bench_web_${Date.now().toString(36)}`;
  try {
    const result = await measureHitToPage({ ...settings, database: { postgres: { url: settings.postgresUrl, schema } } });
    print(formatHitToPage(result, `postgres, ${settings.hitIntervalMs} ms apart, load ${settings.loadEventsPerSec}/s`));
  } finally {
    const client = new pg.Client({ connectionString: settings.postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

/** Runs the measurement from the command line; BENCH_WEB_POSTGRES_URL adds a PostgreSQL run in a throw-away schema. */
async function runFromCommandLine(): Promise<void> {
  await benchHitToPage((line) => console.log(line), {
    hits: Number(process.env.BENCH_WEB_HITS ?? 50),
    hitIntervalMs: Number(process.env.BENCH_WEB_INTERVAL_MS ?? 20),
    loadEventsPerSec: Number(process.env.BENCH_WEB_LOAD ?? 0),
    postgresUrl: process.env.BENCH_WEB_POSTGRES_URL,
  });
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  runFromCommandLine().catch((error: unknown) => {
    console.error(`bench web failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
