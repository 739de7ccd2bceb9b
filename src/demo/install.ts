// First step of the demo: install the models and demo media that are missing, from the local
// folders named by VA_MODELS_DIR and VA_MEDIA_DIR when set, else from their upstream addresses.
import path from 'node:path';
import type { Logger } from '../common/log.js';
import { installAssets, type InstallReport } from '../assets/install.js';
import { loadManifest } from '../assets/manifest.js';
import { defaultMediaStore, defaultModelStore, mediaManifestPath, modelManifestPath } from '../assets/paths.js';

export async function installDemoAssets(
  logger: Logger,
  onProgress: (line: string) => void,
): Promise<{ modelsDir: string; mediaDir: string }> {
  const modelsDir = defaultModelStore();
  const mediaDir = defaultMediaStore();
  const sets = [
    { label: 'models', manifest: modelManifestPath(), destDir: modelsDir, sourceDir: localFolder('VA_MODELS_DIR') },
    { label: 'media', manifest: mediaManifestPath(), destDir: mediaDir, sourceDir: localFolder('VA_MEDIA_DIR') },
  ];
  for (const set of sets) {
    const report: InstallReport = await installAssets({ manifest: await loadManifest(set.manifest), destDir: set.destDir, sourceDir: set.sourceDir, logger });
    const how = set.sourceDir ? `copied from ${set.sourceDir}` : 'downloaded';
    onProgress(`${set.label}: ${report.installed} ${how}, ${report.present} already present (sha256 verified)`);
  }
  return { modelsDir, mediaDir };
}

function localFolder(variable: 'VA_MODELS_DIR' | 'VA_MEDIA_DIR'): string | undefined {
  const value = process.env[variable];
  return value ? path.resolve(value) : undefined;
}
