// Locates the verified models and the real photos and videos that tests run on. CI sets
// VA_REQUIRE_ASSETS=1, and then a missing folder fails the test instead of skipping it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { rtspAvailable } from '../../src/video/rtsp-server.js';

const required = process.env.VA_REQUIRE_ASSETS === '1';

function locate(variable: 'VA_MODELS_DIR' | 'VA_FIXTURES_DIR', t: TestContext | null): string | null {
  const dir = process.env[variable];
  if (dir && existsSync(dir)) return path.resolve(dir);
  const reason = dir
    ? `${variable}=${dir} does not exist`
    : `${variable} is not set; point it at a folder of models or fixtures (bash .ci/run does)`;
  if (required || t === null) throw new Error(`test assets missing: ${reason}`);
  t.skip(reason);
  return null;
}

/** Returns the folder holding the verified ONNX models, or skips the test when allowed. */
export function modelsDir(t: TestContext | null = null): string | null {
  return locate('VA_MODELS_DIR', t);
}

/** Returns the folder holding the real photos and videos, or skips the test when allowed. */
export function fixturesDir(t: TestContext | null = null): string | null {
  return locate('VA_FIXTURES_DIR', t);
}

/**
 * Returns whether GStreamer's RTSP server can run. When it cannot, the test fails if assets are
 * required (as in CI) and is skipped otherwise.
 */
export async function rtspCamerasAvailable(t: TestContext): Promise<boolean> {
  if (await rtspAvailable()) return true;
  const reason = 'GStreamer RTSP server bindings are missing; run scripts/setup.sh';
  if (required) throw new Error(reason);
  t.skip(reason);
  return false;
}
