// A private Mosquitto for tests: started on a free 127.0.0.1 port with its own config and
// persistence folder, so a test may stop, freeze or restart it. The system broker on 1883 is never
// touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface MosquittoOptions {
  /** Extra config lines for the listener, e.g. TLS settings; `listener` itself is written here. */
  listenerLines?: string[];
  /** Extra global config lines, e.g. `acl_file`. Default: anonymous access allowed. */
  globalLines?: string[];
  /** Port to listen on; default a free port. */
  port?: number;
  /** Folder for the config and the persistence file; default a new temp folder, removed by dispose(). */
  dir?: string;
  /** Full config for the given port, replacing the lines above (persistence is still set here). */
  config?: (port: number) => string[];
}

export interface RunningMosquitto {
  port: number;
  /** mqtt://127.0.0.1:PORT (TLS listeners need mqtts:// instead). */
  url: string;
  dir: string;
  pid(): number;
  /** Stops the broker with SIGTERM (it saves its persistence file) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config and persistence. */
  restart(): Promise<void>;
  /** Stops the broker and removes its folder when this helper created it. */
  dispose(): Promise<void>;
  /** Last lines of the broker's log, for failure messages. */
  logTail(): string;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'mosquitto-test-'));
  const port = options.port ?? (await freePort());
  const configFile = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    configFile,
    [
      // Started as root, Mosquitto would switch to its own user, which cannot read a private temp folder.
      'user root',
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...(options.config?.(port) ?? [...(options.globalLines ?? ['allow_anonymous true']), `listener ${port} 127.0.0.1`, ...(options.listenerLines ?? [])]),
      '',
    ].join('\n'),
  );

  const log: string[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const started = spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    started.stderr!.on('data', (chunk: Buffer) => {
      log.push(...chunk.toString().split('\n').filter(Boolean));
      if (log.length > 200) log.splice(0, log.length - 200);
    });
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    await waitForPort(port, 10_000, () => started.exitCode !== null, () => log.slice(-20).join('\n'));
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGCONT');
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    pid: () => child?.pid ?? -1,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    logTail: () => log.slice(-20).join('\n'),
  };
}

async function waitForPort(port: number, timeoutMs: number, hasExited: () => boolean, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited()) throw new Error(`mosquitto exited at start:\n${tail()}`);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
