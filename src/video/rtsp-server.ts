// Starts and stops the GStreamer RTSP test cameras (rtsp_server.py) on 127.0.0.1, one mount per
// clip. GStreamer serves the streams, and this module owns the process, its readiness and its exit.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../common/log.js';
import { VideoError } from './errors.js';
import { LineRingBuffer } from './line-ring-buffer.js';

export interface RtspCameraSpec {
  /** Mount name: 1-64 letters, digits, _ or -. */
  name: string;
  /** H.264 Annex-B elementary stream without B-frames. */
  clipPath: string;
  fps: number;
}

export interface StartRtspCamerasOptions {
  /** TCP port on 127.0.0.1, or 0 to let the system pick a free one. */
  port: number;
  cameras: readonly RtspCameraSpec[];
  /** Maximum wait for the server's ready line, in ms. Default 10000. */
  readyTimeoutMs?: number;
  /** Wait after SIGTERM, in ms, before stop() sends SIGKILL. Default 3000. */
  stopTimeoutMs?: number;
  /** Python with GStreamer's bindings. Default /usr/bin/python3. */
  pythonPath?: string;
  logger?: Logger;
}

export interface RtspCameras {
  /** rtsp://127.0.0.1:PORT/NAME for each camera name. */
  urls: Record<string, string>;
  port: number;
  pid: number;
  /** Stops the server and resolves once the process has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SERVER_SCRIPT = fileURLToPath(new URL('./rtsp_server.py', import.meta.url));
const DEFAULT_PYTHON = '/usr/bin/python3';
const MOUNT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const CHECK_TIMEOUT_MS = 10_000;

const availability = new Map<string, Promise<boolean>>();

/**
 * Returns whether the RTSP server can run: the Python has GStreamer's bindings and the
 * elements it needs. The result is cached per Python path.
 */
export function rtspAvailable(pythonPath = DEFAULT_PYTHON): Promise<boolean> {
  let answer = availability.get(pythonPath);
  if (answer === undefined) {
    answer = checkServerRuns(pythonPath);
    availability.set(pythonPath, answer);
  }
  return answer;
}

/**
 * Starts the RTSP server and resolves once it listens. Rejects with VideoError INVALID_OPTIONS,
 * INPUT_NOT_FOUND, RTSP_UNAVAILABLE, RTSP_START_FAILED or RTSP_START_TIMEOUT.
 */
export async function startRtspCameras(options: StartRtspCamerasOptions): Promise<RtspCameras> {
  await validateCameras(options);
  const logger = options.logger ?? createLogger('video.rtsp-server');
  const pythonPath = options.pythonPath ?? DEFAULT_PYTHON;
  const args = [
    SERVER_SCRIPT,
    '--host', HOST,
    '--port', String(options.port),
    ...options.cameras.flatMap((camera) => ['--camera', camera.name, camera.clipPath, String(camera.fps)]),
  ];
  // stdin stays an open pipe: the server exits when it reaches EOF, that is when this process dies.
  const child = spawn(pythonPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderrTail = new LineRingBuffer(30);
  child.stderr.on('data', (chunk: Buffer) => stderrTail.push(chunk));

  const port = await waitForReady(child, stderrTail, options.readyTimeoutMs ?? 10_000, pythonPath);
  const pid = child.pid ?? -1;
  const exited = watchExit(child, stderrTail, logger, pid);
  logger.info({ pid, port, cameras: options.cameras.length }, 'RTSP camera server started');

  const urls: Record<string, string> = {};
  for (const camera of options.cameras) urls[camera.name] = `rtsp://${HOST}:${port}/${camera.name}`;
  return {
    urls,
    port,
    pid,
    stop: () => stopServer(child, exited.promise, exited.markStopping, options.stopTimeoutMs ?? 3000),
  };
}

async function validateCameras(options: StartRtspCamerasOptions): Promise<void> {
  if (!(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65_535)) {
    throw new VideoError('INVALID_OPTIONS', `port should be an integer from 0 to 65535, instead got ${options.port}`);
  }
  if (options.cameras.length === 0) {
    throw new VideoError('INVALID_OPTIONS', 'cameras should list at least one clip, instead got none');
  }
  const seen = new Set<string>();
  for (const camera of options.cameras) {
    if (!MOUNT_NAME.test(camera.name) || seen.has(camera.name)) {
      throw new VideoError(
        'INVALID_OPTIONS',
        `camera name should be 1-64 letters, digits, _ or - and unique, instead got "${camera.name}"`,
      );
    }
    seen.add(camera.name);
    if (!(Number.isFinite(camera.fps) && camera.fps > 0 && camera.fps <= 240)) {
      throw new VideoError('INVALID_OPTIONS', `fps of camera ${camera.name} should be in (0, 240], instead got ${camera.fps}`);
    }
    try {
      await access(camera.clipPath);
    } catch (error) {
      throw new VideoError('INPUT_NOT_FOUND', `clip of camera ${camera.name} not found: ${camera.clipPath}`, { cause: error });
    }
  }
}

/** Resolves with the bound port from the server's ready line, and kills the server on failure. */
function waitForReady(
  child: ChildProcessWithoutNullStreams,
  stderrTail: LineRingBuffer,
  readyTimeoutMs: number,
  pythonPath: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdoutText = '';
    const fail = (error: VideoError): void => {
      cleanUp();
      child.kill('SIGKILL');
      reject(error);
    };
    const onStdout = (chunk: Buffer): void => {
      stdoutText += chunk.toString();
      const port = parseReadyPort(stdoutText);
      if (port === null) return;
      cleanUp();
      resolve(port);
    };
    const onError = (error: Error): void =>
      fail(new VideoError('RTSP_UNAVAILABLE', `cannot start ${pythonPath}: ${error.message}`, { cause: error }));
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(
        new VideoError(
          'RTSP_START_FAILED',
          `RTSP server exited before it was ready (${signal ?? `exit code ${code}`}). stderr:\n` +
            stderrTail.snapshot().join('\n'),
        ),
      );
    const timer = setTimeout(
      () =>
        fail(
          new VideoError(
            'RTSP_START_TIMEOUT',
            `RTSP server was not ready within ${readyTimeoutMs} ms; it was killed. stderr:\n` +
              stderrTail.snapshot().join('\n'),
          ),
        ),
      readyTimeoutMs,
    );
    const cleanUp = (): void => {
      clearTimeout(timer);
      child.stdout.off('data', onStdout);
      child.off('error', onError);
      child.off('close', onClose);
    };

    child.stdout.on('data', onStdout);
    child.once('error', onError);
    child.once('close', onClose);
  });
}

function parseReadyPort(stdoutText: string): number | null {
  for (const line of stdoutText.split('\n').slice(0, -1)) {
    try {
      const message = JSON.parse(line) as { event?: unknown; port?: unknown };
      if (message.event === 'ready' && typeof message.port === 'number') return message.port;
    } catch {
      // A line that is not JSON is not the ready line.
    }
  }
  return null;
}

/** Logs an exit that stop() did not ask for, and resolves when the server has exited. */
function watchExit(
  child: ChildProcessWithoutNullStreams,
  stderrTail: LineRingBuffer,
  logger: Logger,
  pid: number,
): { promise: Promise<void>; markStopping: () => void } {
  let stopping = false;
  // Drain stdout so that the server does not block on a full pipe.
  child.stdout.resume();
  const promise = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      if (!stopping) {
        logger.error({ pid, code, signal, stderr: stderrTail.snapshot().join('\n') }, 'RTSP camera server exited unexpectedly');
      }
      resolve();
    });
  });
  return { promise, markStopping: () => (stopping = true) };
}

async function stopServer(
  child: ChildProcessWithoutNullStreams,
  exited: Promise<void>,
  markStopping: () => void,
  stopTimeoutMs: number,
): Promise<void> {
  markStopping();
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

function checkServerRuns(pythonPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(pythonPath, [SERVER_SCRIPT, '--check'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHECK_TIMEOUT_MS);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
