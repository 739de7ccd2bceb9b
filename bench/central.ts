// Central service benchmark on the real Mosquitto, SQLite and PostgreSQL: two instances splitting the
// load with each event stored once, ingest-and-match throughput per core with hit latency, face search
// latency by watchlist size, and 10,000 hostile payloads. `npx tsx bench/central.ts` runs it alone;
// `npm run bench` calls runCentralBench. The load comes from a child process, so the figures per core
// count the service's process only.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { percentile } from '../src/common/stats.js';
import { FaceIndex } from '../src/matching/face-index.js';
import { eventTopic } from '../src/protocol/topics.js';
import type { PatrolEvent } from '../src/protocol/event.js';
import { cleanPlate, faceEventFor, hostileMessages, plateEventFor, publishPaced, waitUntil } from '../test/support/central-load.js';
import { openTestStore } from '../test/support/central-stores.js';
import { BROKER_URL, startInstance, type Instance } from '../test/support/central-instance.js';

const HOT_PLATE = '川A8H458';
const DIMENSION = 128;

export interface CentralBenchOptions {
  /** Events per ingest run (default 6000). */
  events?: number;
  /** Ingest connections per instance (default 4). */
  connections?: number;
  /** Watchlist sizes for the face search figures (default 1k, 10k, 100k). */
  faceSizes?: number[];
  /** Hostile payloads (default 10,000). */
  hostile?: number;
  print?: (line: string) => void;
}

export interface IngestFigures {
  backend: 'sqlite' | 'postgres';
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Events per second of the service's CPU time (user + system) in this process. */
  eventsPerCoreSecond: number;
  hits: number;
  /** From the event's outbox commit on the (simulated) car to the service's hit event, same clock, at full load (queueing included). */
  hitLatencyMs: { p50: number; p99: number };
  /** Same, with the events sent at half of eventsPerSecond for about 5 s. */
  halfLoad: { eventsPerSecond: number; hits: number; hitLatencyMs: { p50: number; p99: number } };
}

export interface CentralBenchFigures {
  split: { events: number; duplicatesSent: number; perInstance: number[]; storedOnce: boolean };
  ingest: IngestFigures[];
  faceSearch: Array<{ embeddings: number; p50Ms: number; p99Ms: number }>;
  hostile: { messages: number; rejected: number; stored: number; seconds: number; serviceAlive: boolean };
}

/** Runs every section; each bounds its own time and cleans up its database and connections. */
export async function runCentralBench(options: CentralBenchOptions = {}): Promise<CentralBenchFigures> {
  const print = options.print ?? ((line: string) => console.log(line));
  const events = options.events ?? 6000;
  const connections = options.connections ?? 4;

  print('## central service');
  const split = await benchSplit(Math.min(events, 2000));
  print(`two instances, one PostgreSQL: ${split.events} events + ${split.duplicatesSent} resent, handled ${split.perInstance.join(' + ')}, stored once: ${split.storedOnce}`);

  const ingest: IngestFigures[] = [];
  for (const backend of ['sqlite', 'postgres'] as const) {
    const figures = await benchIngest(backend, events, connections);
    ingest.push(figures);
    print(
      `ingest+match ${backend}: ${figures.eventsPerSecond.toFixed(0)} events/s, ${figures.eventsPerCoreSecond.toFixed(0)} events per CPU-second of the service, ` +
        `${figures.hits} hits, hit latency at full load p50 ${figures.hitLatencyMs.p50.toFixed(1)} ms p99 ${figures.hitLatencyMs.p99.toFixed(1)} ms; ` +
        `at ${figures.halfLoad.eventsPerSecond.toFixed(0)} events/s p50 ${figures.halfLoad.hitLatencyMs.p50.toFixed(1)} ms p99 ${figures.halfLoad.hitLatencyMs.p99.toFixed(1)} ms (${figures.halfLoad.hits} hits)`,
    );
  }

  const faceSearch = benchFaceSearch(options.faceSizes ?? [1000, 10_000, 100_000]);
  for (const row of faceSearch) print(`face search, ${row.embeddings} embeddings: p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms`);

  const hostile = await benchHostile(options.hostile ?? 10_000);
  print(`hostile payloads: ${hostile.rejected}/${hostile.messages} rejected, ${hostile.stored} stored, ${hostile.seconds.toFixed(1)} s, service alive: ${hostile.serviceAlive}`);
  return { split, ingest, faceSearch, hostile };
}

function shareGroup(): string {
  return `bench-${randomBytes(4).toString('hex')}`;
}

async function benchSplit(count: number): Promise<CentralBenchFigures['split']> {
  const database = await openTestStore('postgres');
  const group = shareGroup();
  const instances = [
    await startInstance({ store: database.store, shareGroup: group, hotlist: [{ plate: HOT_PLATE, reason: 'stolen vehicle', priority: 1 }] }),
    await startInstance({ store: await database.reopen(), shareGroup: group, skipListSync: true }),
  ];
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  try {
    const cars = Array.from({ length: 8 }, (_, i) => `bench-${group}-${i}`);
    const messages = Array.from({ length: count }, (_, i) => {
      const carId = cars[i % cars.length]!;
      const seq = Math.floor(i / cars.length) + 1;
      return { topic: eventTopic(carId), payload: JSON.stringify(plateEventFor(carId, seq, cleanPlate(seq))) };
    });
    const resent = messages.filter((_, i) => i % 20 === 0);
    const handled = (): number => instances.reduce((sum, instance) => sum + instance.handled(), 0);
    await publishPaced(publisher, [...messages, ...resent], handled);
    await waitUntil(() => handled() === messages.length + resent.length, 'the split load', 30_000);

    let stored = 0;
    for (const carId of cars) stored += await database.store.countEvents(carId);
    const firstTime = instances.flatMap((instance) => instance.ingested).filter((event) => !event.duplicate).length;
    return { events: messages.length, duplicatesSent: resent.length, perInstance: instances.map((instance) => instance.handled()), storedOnce: stored === messages.length && firstTime === messages.length };
  } finally {
    await publisher.endAsync();
    for (const instance of instances) await instance.stop();
    await database.cleanup();
  }
}

/** Subject embeddings for the ingest runs: unit vectors along distinct axes, far apart from each other. */
function subjectEmbedding(index: number): Float32Array {
  const vector = new Float32Array(DIMENSION);
  vector[index % DIMENSION] = 1;
  vector[(index * 7 + 3) % DIMENSION] = 0.5;
  return vector;
}

async function benchIngest(backend: 'sqlite' | 'postgres', events: number, connections: number): Promise<IngestFigures> {
  const database = await openTestStore(backend);
  const instance = await startInstance({
    store: database.store,
    shareGroup: shareGroup(),
    connections,
    hitCooldownMs: 0,
    hotlist: [{ plate: HOT_PLATE, reason: 'stolen vehicle', priority: 1 }],
    subjects: Array.from({ length: 100 }, (_, i) => ({ subjectId: `subject-${i}`, listId: 'default', label: `subject ${i}`, embeddings: [subjectEmbedding(i)] })),
    faceThreshold: 0.9,
  });
  try {
    const full = await runLoad(instance, { brokerUrl: BROKER_URL, carPrefix: `bench-${randomBytes(4).toString('hex')}`, events, ratePerSecond: null });
    const rate = Math.max(1, Math.round(full.eventsPerSecond / 2));
    const half = await runLoad(instance, { brokerUrl: BROKER_URL, carPrefix: `bench-${randomBytes(4).toString('hex')}`, events: rate * 5, ratePerSecond: rate });
    return {
      backend,
      events,
      seconds: full.seconds,
      eventsPerSecond: full.eventsPerSecond,
      eventsPerCoreSecond: full.eventsPerCoreSecond,
      hits: full.latenciesMs.length,
      hitLatencyMs: { p50: percentile(full.latenciesMs, 50), p99: percentile(full.latenciesMs, 99) },
      halfLoad: { eventsPerSecond: half.eventsPerSecond, hits: half.latenciesMs.length, hitLatencyMs: { p50: percentile(half.latenciesMs, 50), p99: percentile(half.latenciesMs, 99) } },
    };
  } finally {
    await instance.stop();
    await database.cleanup();
  }
}

interface LoadResult {
  seconds: number;
  eventsPerSecond: number;
  eventsPerCoreSecond: number;
  latenciesMs: number[];
}

/** Sends events from a publisher child process until the instance has handled them all. */
async function runLoad(instance: Instance, settings: PublisherSettings): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const onHit = (hit: { latency: { uplinkMs: number; centralMs: number } }): void => {
    latenciesMs.push(hit.latency.uplinkMs + hit.latency.centralMs);
  };
  instance.service.on('hit', onHit);
  const child = startPublisher(settings);
  const handledBefore = instance.handled();
  const handled = (): number => instance.handled() - handledBefore;
  try {
    await waitForMessage(child, 'ready');
    const startedAtMs = Date.now();
    const cpuBefore = process.cpuUsage();
    // The publisher exits once it has sent everything, so progress goes only to a connected child.
    const progress = setInterval(() => child.connected && child.send({ handled: handled() }), 5);
    child.send({ start: true });
    await waitUntil(() => handled() >= settings.events, `${settings.events} events`, 120_000).finally(() => clearInterval(progress));
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (Date.now() - startedAtMs) / 1000;
    return { seconds, eventsPerSecond: settings.events / seconds, eventsPerCoreSecond: settings.events / ((cpu.user + cpu.system) / 1e6), latenciesMs };
  } finally {
    instance.service.off('hit', onHit);
    child.kill();
  }
}

function benchFaceSearch(sizes: number[]): CentralBenchFigures['faceSearch'] {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const randomVector = (): Float32Array => Float32Array.from({ length: DIMENSION }, random);
  return sizes.map((size) => {
    const subjects = Array.from({ length: size }, (_, i) => ({ subjectId: `s${i}`, listId: 'default', label: `s${i}`, embeddings: [randomVector()] }));
    const index = new FaceIndex({ lists: [{ listId: 'default', threshold: 0.4 }], subjects });
    const timesMs: number[] = [];
    for (let query = 0; query < 200; query++) {
      const vector = randomVector();
      const startedAt = performance.now();
      index.search(vector);
      timesMs.push(performance.now() - startedAt);
    }
    return { embeddings: size, p50Ms: percentile(timesMs, 50), p99Ms: percentile(timesMs, 99) };
  });
}

async function benchHostile(count: number): Promise<CentralBenchFigures['hostile']> {
  const database = await openTestStore('sqlite');
  const instance = await startInstance({ store: database.store, shareGroup: shareGroup() });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  try {
    const messages = hostileMessages(count, `bench-hostile-${randomBytes(4).toString('hex')}`);
    const startedAtMs = Date.now();
    await publishPaced(publisher, messages, () => instance.handled(), { timeoutMs: 120_000 });
    await waitUntil(() => instance.handled() >= count, 'the hostile payloads', 60_000);
    const seconds = (Date.now() - startedAtMs) / 1000;

    const carId = `bench-alive-${randomBytes(4).toString('hex')}`;
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(plateEventFor(carId, 1, cleanPlate(1))), { qos: 1 });
    await waitUntil(() => instance.ingested.some((event) => event.carId === carId), 'a valid event after the hostile ones');
    return { messages: count, rejected: instance.rejected.length, stored: instance.ingested.length - 1, seconds, serviceAlive: true };
  } finally {
    await publisher.endAsync();
    await instance.stop();
    await database.cleanup();
  }
}

interface PublisherSettings {
  brokerUrl: string;
  carPrefix: string;
  events: number;
  /** Events per second, or null to send as fast as the service takes them (at most 400 ahead). */
  ratePerSecond: number | null;
}

function startPublisher(settings: PublisherSettings): ChildProcess {
  const child = fork(fileURLToPath(import.meta.url), ['--publisher', JSON.stringify(settings)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // A send racing the child's exit fails with EPIPE; the child has nothing left to publish then.
  child.on('error', () => undefined);
  return child;
}

function waitForMessage(child: ChildProcess, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', (message) => (message === expected ? resolve() : reject(new Error(`publisher sent ${String(message)} instead of ${expected}`))));
    child.once('exit', (code) => reject(new Error(`publisher exited with ${code} before it was ${expected}`)));
  });
}

/** Builds event `index` of the simulated fleet: 20 cars, a fifth of the events faces (a tenth of those of a subject), 5 % of all events a hotlisted plate. */
function fleetEvent(carPrefix: string, index: number): PatrolEvent {
  const carId = `${carPrefix}-${index % 20}`;
  const seq = Math.floor(index / 20) + 1;
  const nowMs = Date.now();
  if (index % 5 === 4) {
    const embedding = index % 50 === 4 ? subjectEmbedding(index % 100) : Float32Array.from({ length: DIMENSION }, (_, i) => Math.sin(index * 13 + i));
    return { ...faceEventFor(carId, seq, normalised(embedding), nowMs + 100), committedAtMs: nowMs };
  }
  return { ...plateEventFor(carId, seq, index % 20 === 0 ? HOT_PLATE : cleanPlate(index), nowMs + 100), committedAtMs: nowMs };
}

function normalised(vector: Float32Array): number[] {
  const norm = Math.hypot(...vector);
  return Array.from(vector, (value) => value / norm);
}

/** Child process: publishes the fleet's events, at most 400 ahead of what the service has handled. */
async function runPublisher(settings: PublisherSettings): Promise<void> {
  const client = await mqtt.connectAsync(settings.brokerUrl, { protocolVersion: 5 });
  let handled = 0;
  let started = false;
  process.on('message', (message: { handled?: number; start?: boolean }) => {
    if (message.handled !== undefined) handled = message.handled;
    if (message.start === true) started = true;
  });
  process.send!('ready');
  while (!started) await new Promise((resolve) => setTimeout(resolve, 1));
  const startedAtMs = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < settings.events; ) {
    while (sent - handled >= 400) await new Promise((resolve) => setTimeout(resolve, 1));
    if (settings.ratePerSecond !== null) {
      const dueAtMs = startedAtMs + (sent / settings.ratePerSecond) * 1000;
      if (dueAtMs > Date.now()) await new Promise((resolve) => setTimeout(resolve, dueAtMs - Date.now()));
    }
    const batch = Math.min(settings.ratePerSecond === null ? 50 : 5, settings.events - sent);
    const publishes = [];
    for (let i = 0; i < batch; i++, sent++) {
      const event = fleetEvent(settings.carPrefix, sent);
      publishes.push(client.publishAsync(eventTopic(event.carId), JSON.stringify(event), { qos: 1 }));
    }
    // At a fixed rate the next batch must not wait for this one's acknowledgements, or the rate drops
    // to one batch per broker round trip; the window above still bounds what is outstanding.
    if (settings.ratePerSecond === null) await Promise.all(publishes);
    else pending.push(...publishes);
  }
  await Promise.all(pending);
  await client.endAsync();
}

const entry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (entry && process.argv[2] === '--publisher') {
  runPublisher(JSON.parse(process.argv[3]!) as PublisherSettings).then(
    () => process.exit(0),
    (error: Error) => {
      console.error(`bench publisher failed: ${error.message}`);
      process.exit(1);
    },
  );
} else if (entry) {
  runCentralBench().then(
    (figures) => {
      console.log(JSON.stringify(figures));
      process.exit(0);
    },
    (error: Error) => {
      console.error(`central bench failed: ${error.message}`);
      process.exit(1);
    },
  );
}
