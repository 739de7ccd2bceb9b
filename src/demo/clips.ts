// Turns the demo's fixtures into camera clips: a drive-by clip for each plate photo and a cut of
// each video, all raw H.264 without B-frames so GStreamer's RTSP server can loop them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/log.js';
import { makeDriveByClip, transcodeClip } from '../video/clips.js';
import type { DemoCamera, DemoConfig } from './config.js';

/** Frame rate of every demo clip. */
export const DEMO_CLIP_FPS = 25;

export interface DemoClip {
  cameraId: string;
  clipPath: string;
  fps: number;
}

/** Makes the clips that are missing or were made from other settings; returns one per camera. */
export async function prepareDemoClips(config: DemoConfig, mediaDir: string, clipsDir: string, logger: Logger): Promise<DemoClip[]> {
  mkdirSync(clipsDir, { recursive: true });
  const clips: DemoClip[] = [];
  for (const camera of config.cameras) {
    const clipPath = path.join(clipsDir, `${camera.id}.h264`);
    const stampPath = `${clipPath}.source.json`;
    const stamp = JSON.stringify({ photo: camera.photo, video: camera.video, seconds: config.clipSeconds, fps: DEMO_CLIP_FPS });
    if (!existsSync(clipPath) || !existsSync(stampPath) || readFileSync(stampPath, 'utf8') !== stamp) {
      const startedMs = Date.now();
      await makeClip(camera, mediaDir, clipPath, config.clipSeconds);
      writeFileSync(stampPath, stamp);
      logger.info({ camera: camera.id, durationMs: Date.now() - startedMs }, 'demo clip made');
    }
    clips.push({ cameraId: camera.id, clipPath, fps: DEMO_CLIP_FPS });
  }
  return clips;
}

async function makeClip(camera: DemoCamera, mediaDir: string, clipPath: string, seconds: number): Promise<void> {
  if (camera.photo !== undefined) {
    await makeDriveByClip(path.join(mediaDir, camera.photo), clipPath, { seconds, width: 1280, height: 720, fps: DEMO_CLIP_FPS });
  } else {
    await transcodeClip(path.join(mediaDir, camera.video!), clipPath, { seconds, fps: DEMO_CLIP_FPS });
  }
}
