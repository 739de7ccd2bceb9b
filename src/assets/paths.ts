// Default locations of the asset manifests and of the installed models and media. Paths resolve
// against the project root, found from this file, so they do not depend on the working directory.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Returns the project root: the nearest folder above this file that contains package.json. This works
 * both from src/assets under tsx and from dist/src/assets after a build.
 */
export function projectRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json found above ${start}; run from a checkout of the project`);
  }
}

// A relative value in the environment also resolves against the project root, like the default.
function storeFromEnv(variable: 'VA_MODEL_STORE' | 'VA_MEDIA_STORE', fallback: string): string {
  const value = process.env[variable];
  return path.resolve(projectRoot(), value && value.length > 0 ? value : fallback);
}

/** Returns the folder that installed models live in: env VA_MODEL_STORE, else `<project>/var/models`. */
export function defaultModelStore(): string {
  return storeFromEnv('VA_MODEL_STORE', 'var/models');
}

/** Returns the folder that installed demo media live in: env VA_MEDIA_STORE, else `<project>/var/media`. */
export function defaultMediaStore(): string {
  return storeFromEnv('VA_MEDIA_STORE', 'var/media');
}

/** Returns the path of the model manifest, `<project>/models/manifest.json`. */
export function modelManifestPath(): string {
  return path.join(projectRoot(), 'models', 'manifest.json');
}

/** Returns the path of the demo media manifest, `<project>/models/media.json`. */
export function mediaManifestPath(): string {
  return path.join(projectRoot(), 'models', 'media.json');
}
