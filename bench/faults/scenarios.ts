// The fault scenarios on the rig: a camera killed and restarted, a camera frozen and resumed, the
// broker stopped, the agent killed with SIGKILL, the disk budget exceeded. Each returns events
// produced and received, recovery time and the other cameras' analysed frame rate during the fault.
import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentRun } from './agent-run.js';
import { FaultRig, HOTLIST_PLATE, type RigOptions } from './rig.js';

export interface FaultResult {
  fault: string;
  /** Events committed to the car's outbox (its last sequence number). */
  produced: number;
  /** Distinct events the central side received. */
  received: number;
  /** Produced, not evicted by the disk budget, and never received. */
  lost: number;
  /** Deliveries of an event already received; the central side drops them by sequence number. */
  duplicatesDelivered: number;
  /** Events deleted unsent by the disk budget (never hits). */
  evictedEvents: number;
  /**
   * Distinct sequence numbers that were received or logged as evicted. An event handed to the
   * broker just before its eviction is both, and counts once.
   */
  accountedFor: number;
  /** Events that lost their evidence to the disk budget. */
  evidenceEvicted: number;
  /** Hits found on the car and received, and how many of those kept their evidence. */
  hitsReceived: number;
  hitsWithEvidence: number;
  /** Received events with a position, and with position null (the car had no fix). */
  eventsWithPosition: number;
  eventsWithoutFix: number;
  /** Received events that carry the car's measured clock offset, and the largest offset's size in ms. */
  eventsWithClockOffset: number;
  maxAbsClockOffsetMs: number | null;
  /** Received events that failed the central event schema. */
  invalidReceived: number;
  recoveryMs: number | null;
  /** Time from SIGSTOP until the reader restarted the frozen camera's ffmpeg; null for other faults. */
  detectionMs: number | null;
  /** Events waiting in the outbox when the agent was killed; null for other faults. */
  backlogAtKill: number | null;
  /** ffmpeg restarts of the camera at fault, as the agent counted them; null for faults of no camera. */
  faultyCameraRestarts: number | null;
  /** Mean analysed frames per second of the cameras not at fault, before and during the fault. */
  othersFpsBefore: number;
  othersFpsDuring: number;
  /** Exit code of the agent's last SIGTERM stop (0 is a clean stop) and the outbox integrity. */
  stopExitCode: number | null;
  outboxIntact: boolean;
  /** Plate texts of non-hits found in the agent's log lines; should be empty. */
  nonHitPlatesLogged: string[];
  /** The broker saw the agent disconnect cleanly at the final stop. */
  cleanDisconnect: boolean;
  /** ffmpeg processes still reading the rig's cameras after the agent exited; should be 0. */
  ffmpegLeftRunning: number;
}

const WARM_UP_TIMEOUT_MS = 90_000;
const MEASURE_MS = 8000;
const RECOVERY_TIMEOUT_MS = 60_000;
const POLL_MS = 200;

export async function cameraKilledScenario(options: RigOptions): Promise<FaultResult> {
  return withRig(options, 'camera killed and restarted', async (rig, agent) => {
    const camera = rig.cameras[0]!;
    const others = otherCameraIds(rig, camera.id);
    const before = await analysedFps(agent, others, MEASURE_MS);
    camera.kill();
    const during = await analysedFps(agent, others, MEASURE_MS);
    await camera.start();
    const recoveryMs = await timeUntilAnalysed(agent, camera.id);
    return { before, during, recoveryMs, faultyCamera: camera.id };
  });
}

export async function cameraFrozenScenario(options: RigOptions): Promise<FaultResult> {
  return withRig(options, 'camera frozen (SIGSTOP) and resumed', async (rig, agent) => {
    const camera = rig.cameras[1]!;
    const others = otherCameraIds(rig, camera.id);
    const before = await analysedFps(agent, others, MEASURE_MS);
    const restartsBefore = await agent.metricValue('agent_camera_restarts', { camera: camera.id });
    camera.freeze();
    const frozenAtMs = Date.now();
    const detection = waitFor(async () => (await agent.metricValue('agent_camera_restarts', { camera: camera.id })) > restartsBefore, MEASURE_MS, 'the frozen camera to be restarted').then(
      () => Date.now() - frozenAtMs,
      () => null,
    );
    const during = await analysedFps(agent, others, MEASURE_MS);
    const detectionMs = await detection;
    camera.resume();
    const recoveryMs = await timeUntilAnalysed(agent, camera.id);
    return { before, during, recoveryMs, faultyCamera: camera.id, detectionMs };
  });
}

/** Stops the broker for `outageMs` while every camera runs; recovery ends when the backlog is sent. */
export async function brokerStoppedScenario(options: RigOptions, outageMs = 60_000): Promise<FaultResult> {
  return withRig(options, `broker stopped for ${Math.round(outageMs / 1000)} s`, async (rig, agent) => {
    const all = rig.cameras.map((camera) => camera.id);
    const before = await analysedFps(agent, all, MEASURE_MS);
    await rig.broker.stop();
    const during = await analysedFps(agent, all, outageMs);
    await rig.broker.restart();
    const restartedAtMs = Date.now();
    await waitFor(async () => (await agent.health()).outboxDepth === 0, RECOVERY_TIMEOUT_MS, 'the outbox to drain after the broker came back');
    return { before, during, recoveryMs: Date.now() - restartedAtMs };
  });
}

/**
 * Kills the agent with SIGKILL while the broker is frozen (SIGSTOP), so events sit unacknowledged in
 * the outbox and in flight. Then the broker resumes and the agent starts again on the same data folder.
 */
export async function agentKilledScenario(options: RigOptions, backlogMs = 6000): Promise<FaultResult> {
  return withRig(options, 'agent killed with SIGKILL', async (rig, agent) => {
    const all = rig.cameras.map((camera) => camera.id);
    const before = await analysedFps(agent, all, MEASURE_MS);
    process.kill(rig.broker.pid(), 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, backlogMs));
    const backlogAtKill = (await agent.health()).outboxDepth ?? 0;
    agent.kill();
    await agent.exited;
    process.kill(rig.broker.pid(), 'SIGCONT');

    const restartedAtMs = Date.now();
    const restarted = await rig.startAgent();
    await waitFor(async () => (await restarted.analysedByCamera()).size === all.length, RECOVERY_TIMEOUT_MS, 'every camera analysed again after the restart');
    const recoveryMs = Date.now() - restartedAtMs;
    const during = await analysedFps(restarted, all, MEASURE_MS);
    return { before, during, recoveryMs, agent: restarted, backlogAtKill };
  });
}

/**
 * Keeps the broker down from the start while the outbox has a tiny budget, so evidence and then whole
 * non-hit events are evicted. When the broker returns, what is left is sent.
 */
export async function diskBudgetScenario(options: RigOptions, outageMs = 30_000): Promise<FaultResult> {
  const tiny = { ...options, storage: { outboxMaxMiB: 0.06, evidenceMaxMiB: 0.03 } };
  return withRig(tiny, 'disk budget exceeded', async (rig, agent) => {
    const all = rig.cameras.map((camera) => camera.id);
    await rig.broker.stop();
    const before = await analysedFps(agent, all, MEASURE_MS);
    const during = await analysedFps(agent, all, Math.max(0, outageMs - MEASURE_MS));
    await rig.broker.restart();
    const restartedAtMs = Date.now();
    await waitFor(async () => (await agent.health()).outboxDepth === 0, RECOVERY_TIMEOUT_MS, 'the outbox to drain after the broker came back');
    return { before, during, recoveryMs: Date.now() - restartedAtMs };
  });
}

interface FaultSteps {
  before: number;
  during: number;
  recoveryMs: number | null;
  /** The agent running at the end, when the fault replaced it. */
  agent?: AgentRun;
  faultyCamera?: string;
  backlogAtKill?: number;
  detectionMs?: number | null;
}

async function withRig(options: RigOptions, fault: string, steps: (rig: FaultRig, agent: AgentRun) => Promise<FaultSteps>): Promise<FaultResult> {
  const rig = await FaultRig.start(options);
  try {
    const first = await rig.startAgent();
    await waitFor(async () => (await first.analysedByCamera()).size === rig.cameras.length, WARM_UP_TIMEOUT_MS, 'every camera to deliver analysed frames');
    const outcome = await steps(rig, first);
    const agent = outcome.agent ?? first;
    await waitFor(async () => (await agent.health()).outboxDepth === 0, RECOVERY_TIMEOUT_MS, 'the outbox to drain before the stop');
    const evictions = { events: await agent.metricValue('agent_outbox_evictions_total', { kind: 'event' }), evidence: await agent.metricValue('agent_outbox_evictions_total', { kind: 'evidence' }) };
    const restarts = outcome.faultyCamera === undefined ? null : await agent.metricValue('agent_camera_restarts', { camera: outcome.faultyCamera });
    const exit = await agent.stop();
    return { ...(await tally(rig, fault, outcome, exit.code, evictions, [first, agent])), faultyCameraRestarts: restarts, backlogAtKill: outcome.backlogAtKill ?? null, detectionMs: outcome.detectionMs ?? null };
  } finally {
    await rig.dispose();
  }
}

async function tally(rig: FaultRig, fault: string, steps: FaultSteps, stopExitCode: number | null, evictions: { events: number; evidence: number }, agents: AgentRun[]): Promise<Omit<FaultResult, 'faultyCameraRestarts' | 'backlogAtKill' | 'detectionMs'>> {
  const outbox = readOutbox(rig.dataDir);
  const evictedSeqs = new Set(agents.flatMap((agent) => evictedEventSeqs(agent)));
  const expected = Array.from({ length: outbox.produced }, (_, i) => outbox.firstSeq + i).filter((seq) => !evictedSeqs.has(seq) && !outbox.waiting.has(seq));
  // Deliveries are asynchronous; give the last ones a moment to arrive.
  await waitFor(async () => expected.every((seq) => rig.recorder.events.has(seq)), 15_000, 'the central side to receive every event').catch(() => undefined);

  const events = [...rig.recorder.events.values()];
  const hits = events.filter((event) => event.carMatch);
  const offsets = events.flatMap((event) => (event.clockOffsetMs === null ? [] : [event.clockOffsetMs]));
  const logText = agents.flatMap((agent) => agent.logLines).join('\n');
  return {
    fault,
    produced: outbox.produced,
    received: rig.recorder.events.size,
    lost: expected.filter((seq) => !rig.recorder.events.has(seq)).length,
    duplicatesDelivered: rig.recorder.deliveries - rig.recorder.events.size,
    evictedEvents: Math.max(evictions.events, evictedSeqs.size),
    accountedFor: new Set([...rig.recorder.events.keys(), ...evictedSeqs]).size,
    evidenceEvicted: evictions.evidence,
    hitsReceived: hits.length,
    hitsWithEvidence: hits.filter((event) => event.evidence > 0).length,
    invalidReceived: events.filter((event) => !event.valid).length,
    eventsWithPosition: events.filter((event) => event.position === 'fix').length,
    eventsWithoutFix: events.filter((event) => event.position === 'none').length,
    eventsWithClockOffset: offsets.length,
    maxAbsClockOffsetMs: offsets.length === 0 ? null : Math.max(...offsets.map(Math.abs)),
    recoveryMs: steps.recoveryMs,
    othersFpsBefore: round(steps.before),
    othersFpsDuring: round(steps.during),
    stopExitCode,
    outboxIntact: outbox.intact,
    nonHitPlatesLogged: ['京EA5331', '皖K66666'].filter((plate) => logText.includes(plate)),
    cleanDisconnect: /Client agent-fault-car disconnected/.test(rig.broker.logTail()),
    ffmpegLeftRunning: processesReading(rig.cameras.map((camera) => camera.url)),
  };
}

/** Sequence range, waiting rows and integrity of the agent's outbox, read after it stopped. */
function readOutbox(dataDir: string): { firstSeq: number; produced: number; waiting: Set<number>; intact: boolean } {
  const db = new Database(path.join(dataDir, 'outbox.sqlite'), { readonly: true });
  try {
    const lastSeq = (db.prepare("SELECT value FROM meta WHERE key = 'last_seq'").get() as { value: number }).value;
    // The agent starts a new outbox at its clock in ms; older files started at 1.
    const firstSeq = (db.prepare("SELECT value FROM meta WHERE key = 'first_seq'").get() as { value: number } | undefined)?.value ?? 1;
    const waiting = new Set((db.prepare('SELECT seq FROM outbox').all() as Array<{ seq: number }>).map((row) => row.seq));
    const intact = db.pragma('integrity_check', { simple: true }) === 'ok';
    return { firstSeq, produced: lastSeq - firstSeq + 1, waiting, intact };
  } finally {
    db.close();
  }
}

/** Counts processes whose command line names one of `urls`, from /proc. */
function processesReading(urls: string[]): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (commandLine.startsWith('ffmpeg') && urls.some((url) => commandLine.includes(url))) count++;
  }
  return count;
}

/** Sequence numbers the agent logged as evicted unsent; the log line lists up to 50 per pass. */
function evictedEventSeqs(agent: AgentRun): number[] {
  return agent.logs().flatMap((line) => (line.kind === 'event' && Array.isArray(line.seqs) ? (line.seqs as number[]) : []));
}

function otherCameraIds(rig: FaultRig, faulty: string): string[] {
  return rig.cameras.map((camera) => camera.id).filter((id) => id !== faulty);
}

/** Mean analysed frames per second over `cameraIds` during the next `durationMs`. */
async function analysedFps(agent: AgentRun, cameraIds: string[], durationMs: number): Promise<number> {
  const start = await agent.analysedByCamera();
  const startedAtMs = Date.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const end = await agent.analysedByCamera();
  const seconds = (Date.now() - startedAtMs) / 1000;
  const rates = cameraIds.map((id) => ((end.get(id) ?? 0) - (start.get(id) ?? 0)) / seconds);
  return rates.reduce((sum, rate) => sum + rate, 0) / Math.max(1, rates.length);
}

/** Time until the camera's analysed-frame counter moves again. */
async function timeUntilAnalysed(agent: AgentRun, cameraId: string): Promise<number> {
  const startedAtMs = Date.now();
  const count = (await agent.analysedByCamera()).get(cameraId) ?? 0;
  await waitFor(async () => ((await agent.analysedByCamera()).get(cameraId) ?? 0) > count, RECOVERY_TIMEOUT_MS, `camera ${cameraId} to deliver analysed frames again`);
  return Date.now() - startedAtMs;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // The agent may be between processes; try again.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export { HOTLIST_PLATE };
