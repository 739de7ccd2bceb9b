// Connects a configured camera to the agent: an rtsp:// source read by a supervised ffmpeg through
// CameraReader, or a video file or folder replayed by ReplaySource.
import { CameraReader } from '../../src/video/frame-reader.js';
import type { FrameSourceFactory } from '../agent.js';
import type { CameraConfig } from '../config.js';
import { ReplaySource } from './replay-source.js';

export function isRtspSource(source: string): boolean {
  return /^rtsps?:\/\//i.test(source);
}

/** True for a replay read as fast as possible, whose frames must wait for the pipeline instead of being dropped. */
export function isBackPressured(camera: Pick<CameraConfig, 'source' | 'realtime'>): boolean {
  return !isRtspSource(camera.source) && !camera.realtime;
}

export const createCameraSource: FrameSourceFactory = (camera, onFrame, logger, onEnd) => {
  const cameraLogger = logger.child({ camera: camera.id });
  if (!isRtspSource(camera.source)) {
    const replay = new ReplaySource({ camera, onFrame, onEnd, logger: cameraLogger });
    return { start: () => replay.start(), stop: () => replay.stop() };
  }

  const reader = new CameraReader({
    cameraId: camera.id,
    source: { kind: 'rtsp', url: camera.source },
    fps: camera.analysisFps,
    width: camera.width,
    height: camera.height,
    hwaccelArgs: camera.ffmpegInputArgs,
    logger: cameraLogger,
  });
  reader.on('frame', (frame) => void onFrame(frame));
  return {
    start: () => reader.start(),
    stop: () => reader.stop(),
    stats: () => reader.stats(),
  };
};
