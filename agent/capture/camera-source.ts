// Connects a configured camera to the agent: an rtsp:// source or a video file (replayed as a
// camera), read by a supervised ffmpeg through CameraReader.
import type { FileSource, RtspSource } from '../../src/video/ffmpeg-args.js';
import { CameraReader } from '../../src/video/frame-reader.js';
import type { FrameSourceFactory } from '../agent.js';
import type { CameraConfig } from '../config.js';

export function readerSource(camera: CameraConfig): RtspSource | FileSource {
  if (/^rtsps?:\/\//i.test(camera.source)) return { kind: 'rtsp', url: camera.source };
  return { kind: 'file', path: camera.source, realtime: camera.realtime, loop: camera.loop, inputFps: camera.sourceFps };
}

export const createCameraSource: FrameSourceFactory = (camera, onFrame, logger) => {
  const reader = new CameraReader({
    cameraId: camera.id,
    source: readerSource(camera),
    fps: camera.analysisFps,
    width: camera.width,
    height: camera.height,
    hwaccelArgs: camera.ffmpegInputArgs,
    logger: logger.child({ camera: camera.id }),
  });
  reader.on('frame', onFrame);
  return {
    start: () => reader.start(),
    stop: () => reader.stop(),
  };
};
