// Replays video files as a camera for testers: one ffmpeg per file, in order, optionally looping.
// In real time (`-re`) frames go out as from a live camera. As fast as possible, ffmpeg's output is
// paused until the pipeline has room for each frame, so no frame is dropped and a replay repeats.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { redactCredentials, type Logger } from '../../src/common/log.js';
import { buildReaderArgs } from '../../src/video/ffmpeg-args.js';
import { RawFrameSplitter } from '../../src/video/frame-splitter.js';
import { LineRingBuffer } from '../../src/video/line-ring-buffer.js';
import type { FfmpegProcess, FfmpegSpawner } from '../../src/video/frame-reader.js';
import type { PipelineFrame } from '../pipeline/frame-pipeline.js';
import { listReplayFiles } from './replay-files.js';

export interface ReplayCamera {
  id: string;
  /** A video file or a folder of video files. */
  source: string;
  /** Read at the files' own frame rate (true) or as fast as the pipeline takes frames (false). */
  realtime: boolean;
  loop: boolean;
  /** Frame rate of raw .h264 files, which carry no timing. */
  sourceFps?: number;
  analysisFps: number;
  width: number;
  height: number;
  ffmpegInputArgs: readonly string[];
}

export interface ReplaySourceOptions {
  camera: ReplayCamera;
  /** Receives each frame. A returned promise pauses ffmpeg's output until it settles. */
  onFrame: (frame: PipelineFrame) => void | Promise<void>;
  /** Called once after the last file when not looping. */
  onEnd?: () => void;
  logger: Logger;
  /**
   * Frame time of the first frame for replays as fast as possible, ms since the epoch; later frames
   * follow at the analysis interval. Defaults to the start time. Real-time replays use the clock.
   */
  epochMs?: number;
  ffmpegPath?: string;
  spawn?: FfmpegSpawner;
}

/**
 * Frame time left between two files of a fast replay, ms, so that no track joins the last frames of
 * one file to the first frames of the next.
 */
const GAP_BETWEEN_FILES_MS = 60_000;
const STOP_TIMEOUT_MS = 3000;

const spawnFfmpeg: FfmpegSpawner = (command, args) => spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });

export class ReplaySource {
  private readonly files: string[];
  private readonly intervalMs: number;
  private running: Promise<void> | null = null;
  private child: FfmpegProcess | null = null;
  private stopped = false;
  private frameIndex = 0;
  private mediaTimeMs = 0;
  private epochMs = 0;

  /** Lists the files at once, so a missing source fails at start and not inside the replay loop. */
  constructor(private readonly options: ReplaySourceOptions) {
    this.files = listReplayFiles(options.camera.source);
    this.intervalMs = 1000 / options.camera.analysisFps;
  }

  start(): void {
    if (this.running !== null) return;
    this.epochMs = this.options.epochMs ?? Date.now();
    this.options.logger.info({ camera: this.options.camera.id, files: this.files.length, realtime: this.options.camera.realtime }, 'replay started');
    this.running = this.playAll();
  }

  /** Stops ffmpeg (SIGTERM, then SIGKILL) and resolves once the replay loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child !== null) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.running;
      clearTimeout(killTimer);
    }
    await this.running;
  }

  private async playAll(): Promise<void> {
    const { camera, logger } = this.options;
    do {
      let played = 0;
      for (const file of this.files) {
        if (this.stopped) return;
        if (await this.playFile(file)) played += 1;
        this.mediaTimeMs += GAP_BETWEEN_FILES_MS;
      }
      if (played === 0) {
        logger.error({ camera: camera.id, files: this.files.length }, 'no replay file could be read; replay stopped');
        break;
      }
    } while (camera.loop && !this.stopped);
    if (!this.stopped) {
      logger.info({ camera: camera.id, frames: this.frameIndex }, 'replay finished');
      this.options.onEnd?.();
    }
  }

  /** Plays one file to its end; returns false when ffmpeg failed on it (logged with its stderr). */
  private playFile(file: string): Promise<boolean> {
    const { camera, logger } = this.options;
    const args = buildReaderArgs({
      source: { kind: 'file', path: file, realtime: camera.realtime, loop: false, inputFps: camera.sourceFps },
      fps: camera.analysisFps,
      width: camera.width,
      height: camera.height,
      hwaccelArgs: camera.ffmpegInputArgs,
    });
    const stderrTail = new LineRingBuffer(30);
    const spawner = this.options.spawn ?? spawnFfmpeg;

    return new Promise((resolve) => {
      const child = spawner(this.options.ffmpegPath ?? 'ffmpeg', args);
      this.child = child;
      const delivered = this.deliver(child.stdout!, camera.width * camera.height * 3);
      child.stderr?.on('data', (chunk: Buffer) => stderrTail.push(chunk));
      child.once('error', (error) => stderrTail.push(`spawn failed: ${error.message}\n`));
      child.once('close', (code, signal) => {
        void delivered.then(() => {
          this.child = null;
          const ok = code === 0 || this.stopped;
          if (!ok) logger.warn({ camera: camera.id, file: redactCredentials(file), code, signal, stderr: stderrTail.snapshot().map(redactCredentials).join('\n') }, 'ffmpeg failed on a replay file; going on with the next');
          resolve(ok);
        });
      });
    });
  }

  /** Cuts ffmpeg's output into frames and hands each on, pausing the output while a frame waits. */
  private deliver(stdout: Readable, frameBytes: number): Promise<void> {
    const splitter = new RawFrameSplitter(frameBytes);
    let chain = Promise.resolve();
    stdout.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      const frames: Buffer[] = [];
      splitter.push(chunk, (data) => frames.push(data));
      if (frames.length === 0) return;
      stdout.pause();
      chain = chain.then(async () => {
        for (const data of frames) await this.emit(data);
        // Resumed after a stop too, so the pipe drains and reports its end.
        stdout.resume();
      });
    });
    return new Promise((resolve) => stdout.once('close', () => void chain.then(resolve)));
  }

  private async emit(data: Buffer): Promise<void> {
    if (this.stopped) return;
    const { camera } = this.options;
    const frame: PipelineFrame = {
      cameraId: camera.id,
      index: this.frameIndex,
      receivedAtMs: Date.now(),
      image: { width: camera.width, height: camera.height, data },
    };
    if (!camera.realtime) frame.mediaTimeMs = Math.round(this.epochMs + this.mediaTimeMs);
    this.frameIndex += 1;
    this.mediaTimeMs += this.intervalMs;
    await this.options.onFrame(frame);
  }
}
