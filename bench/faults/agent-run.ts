// The agent as a child process, as systemd runs it (`node --import tsx agent/main.ts --config`):
// its JSON log lines, its /metrics and /healthz, and SIGTERM or SIGKILL to end it.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../src/assets/paths.js';
import type { HealthReport } from '../../agent/ops/health.js';

export interface AgentRunConfig {
  carId: string;
  broker: { url: string; protocolVersion: 5; reconnectPeriodMs: number };
  dataDir: string;
  modelsDir: string;
  metricsPort: number;
  clock: { syncIntervalSec: number; replyTimeoutMs: number };
  lists: { trustedKeyFiles: string[] };
  gps?: { enabled: boolean; host: string; port: number; maxFixAgeMs: number };
  storage?: { outboxMaxMiB: number; evidenceMaxMiB: number };
  cameras: Array<{ id: string; source: string; analysisFps: number; width: number; height: number; analyses: Array<'plates' | 'faces'> }>;
}

/** Log lines kept; a fault run writes a few hundred. */
const MAX_LOG_LINES = 20_000;
const READY_TIMEOUT_MS = 60_000;

export class AgentRun {
  readonly logLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly startedAtMs = Date.now();
  private stderrTail = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly metricsUrl: string,
  ) {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (this.logLines.length < MAX_LOG_LINES) this.logLines.push(line);
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000)));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(configFile: string, metricsPort: number): Promise<AgentRun> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'agent/main.ts', '--config', configFile], {
      cwd: projectRoot(),
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = new AgentRun(child, `http://127.0.0.1:${metricsPort}`);
    await run.waitUntilServing();
    return run;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Parsed JSON log lines. */
  logs(): Array<Record<string, unknown>> {
    return this.logLines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Frames analysed per camera so far, from /metrics. */
  async analysedByCamera(): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.metricsUrl}/metrics`)).text();
    return countersByCamera(text, 'agent_frames_analysed_total');
  }

  async metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.metricsUrl}/metrics`)).text();
    const requiredLabels = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (match === null || match[1] !== name) continue;
      if (requiredLabels.every((label) => (match[2] ?? '').includes(label))) total += Number(match[3]);
    }
    return total;
  }

  async health(): Promise<HealthReport> {
    return (await (await fetch(`${this.metricsUrl}/healthz`)).json()) as HealthReport;
  }

  /** Sends SIGTERM and waits for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.running) throw new Error(`the agent exited at start:\n${this.stderrTail}\n${this.logLines.slice(-10).join('\n')}`);
      try {
        const response = await fetch(`${this.metricsUrl}/healthz`);
        if (response.status === 200 || response.status === 503) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`the agent did not serve /healthz within ${READY_TIMEOUT_MS} ms:\n${this.stderrTail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export function countersByCamera(metricsText: string, name: string): Map<string, number> {
  const counts = new Map<string, number>();
  const pattern = new RegExp(`^${name}\\{camera="([^"]+)"\\} ([0-9.eE+-]+)$`);
  for (const line of metricsText.split('\n')) {
    const match = pattern.exec(line);
    if (match) counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}
