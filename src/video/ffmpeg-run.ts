// Runs ffmpeg to completion for batch jobs such as making clips. A failure or a timeout rejects
// with the last lines of ffmpeg's stderr, credentials removed.
import { spawn } from 'node:child_process';
import { redactCredentials } from '../common/log.js';
import { VideoError } from './errors.js';
import { LineRingBuffer } from './line-ring-buffer.js';

export interface RunFfmpegOptions {
  /** Default 'ffmpeg' from PATH. */
  ffmpegPath?: string;
  /** The process is killed and the promise rejects after this many ms. Default 120000. */
  timeoutMs?: number;
}

const STDERR_LINES_IN_ERROR = 10;

/** Runs ffmpeg with `args` and resolves when it exits with code 0. */
export function runFfmpeg(args: readonly string[], options: RunFfmpegOptions = {}): Promise<void> {
  const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
  const timeoutMs = options.timeoutMs ?? 120_000;
  const stderrTail = new LineRingBuffer(STDERR_LINES_IN_ERROR);

  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => stderrTail.push(chunk));

    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new VideoError('FFMPEG_FAILED', `cannot start ${ffmpegPath}: ${error.message}. Is ffmpeg installed?`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve();
        return;
      }
      const stderr = stderrTail.snapshot().map(redactCredentials).join('\n');
      if (timedOut) {
        reject(new VideoError('FFMPEG_TIMEOUT', `ffmpeg timed out after ${timeoutMs} ms and was killed. stderr:\n${stderr}`));
        return;
      }
      const ending = signal === null ? `exit code ${code}` : `signal ${signal}`;
      reject(new VideoError('FFMPEG_FAILED', `ffmpeg failed with ${ending}. stderr:\n${stderr}`));
    });
  });
}
