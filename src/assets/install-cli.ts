// Command line for `npm run models:install`: installs or checks the models and, with --media, the
// demo media. Prints one line per file and exits 1 when any file failed.
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../common/log.js';
import { AssetInstallError } from './errors.js';
import { installAssets, verifyAssets, type InstallReport, type InstallResult, type VerifyResult } from './install.js';
import { loadManifest, ManifestError } from './manifest.js';
import { defaultMediaStore, defaultModelStore, mediaManifestPath, modelManifestPath } from './paths.js';

interface CliOptions {
  modelsFrom?: string;
  mediaFrom?: string;
  dest: string;
  mediaDest: string;
  manifest: string;
  mediaManifest: string;
  media: boolean;
  verify: boolean;
  idleTimeoutSec: number;
}

interface AssetSet {
  label: 'models' | 'media';
  manifestPath: string;
  destDir: string;
  sourceDir: string | undefined;
}

function parsePositiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError(`should be a positive number of seconds, instead got "${value}"`);
  return seconds;
}

function resolveOptional(dir: string | undefined): string | undefined {
  return dir === undefined || dir === '' ? undefined : path.resolve(dir);
}

function formatInstallResult(result: InstallResult): string {
  switch (result.status) {
    case 'installed': {
      const verb = result.source === 'copy' ? 'copied' : 'downloaded';
      return `installed  ${result.file} (${result.bytes} bytes, ${verb} in ${result.durationMs} ms)`;
    }
    case 'present':
      return `present    ${result.file} (sha256 verified)`;
    case 'failed':
      return `FAILED     ${result.reason}`;
  }
}

function formatVerifyResult(result: VerifyResult): string {
  switch (result.status) {
    case 'ok':
      return `ok         ${result.file}`;
    case 'missing':
      return `MISSING    ${result.file}: not installed. Run npm run models:install to install it.`;
    case 'mismatch':
      return (
        `MISMATCH   ${result.file}: expected sha256 ${result.expectedSha256} (${result.expectedBytes} bytes), ` +
        `got ${result.actualSha256} (${result.actualBytes} bytes). Run npm run models:install to replace it.`
      );
  }
}

function printSummary(label: string, report: InstallReport): void {
  console.log(`${label}: ${report.installed} installed, ${report.present} already present, ${report.failed} failed in ${report.destDir}`);
}

/** Installs one asset set and returns true when every file is in place. */
async function installSet(set: AssetSet, options: CliOptions): Promise<boolean> {
  const manifest = await loadManifest(set.manifestPath);
  const where = set.sourceDir === undefined ? 'by download' : `from ${set.sourceDir}`;
  console.log(`${set.label}: installing ${manifest.entries.length} file(s) ${where} into ${set.destDir}`);
  try {
    const report = await installAssets({
      manifest,
      destDir: set.destDir,
      sourceDir: set.sourceDir,
      idleTimeoutMs: options.idleTimeoutSec * 1000,
      // The CLI prints every result itself, so the library's log lines stay off unless LOG_LEVEL sets a level.
      logger: createLogger('assets', { level: process.env.LOG_LEVEL ?? 'silent' }),
      onResult: (result) => (result.status === 'failed' ? console.error : console.log)(formatInstallResult(result)),
    });
    printSummary(set.label, report);
    return true;
  } catch (error) {
    if (!(error instanceof AssetInstallError)) throw error;
    printSummary(set.label, error.report);
    return false;
  }
}

/** Checks one asset set and returns true when every file matches the manifest. */
async function verifySet(set: AssetSet): Promise<boolean> {
  const manifest = await loadManifest(set.manifestPath);
  const results = await verifyAssets({ manifest, destDir: set.destDir });
  for (const result of results) (result.status === 'ok' ? console.log : console.error)(formatVerifyResult(result));
  const bad = results.filter((result) => result.status !== 'ok').length;
  console.log(`${set.label}: ${results.length - bad} ok, ${bad} missing or mismatched in ${set.destDir}`);
  return bad === 0;
}

function assetSets(options: CliOptions): AssetSet[] {
  const sets: AssetSet[] = [
    { label: 'models', manifestPath: path.resolve(options.manifest), destDir: path.resolve(options.dest), sourceDir: resolveOptional(options.modelsFrom) },
  ];
  if (options.media) {
    sets.push({
      label: 'media',
      manifestPath: path.resolve(options.mediaManifest),
      destDir: path.resolve(options.mediaDest),
      sourceDir: resolveOptional(options.mediaFrom),
    });
  }
  return sets;
}

async function run(options: CliOptions): Promise<number> {
  let allGood = true;
  for (const set of assetSets(options)) {
    try {
      allGood = (options.verify ? await verifySet(set) : await installSet(set, options)) && allGood;
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      console.error(`error: ${error.message}`);
      allGood = false;
    }
  }
  return allGood ? 0 : 1;
}

const program = new Command()
  .name('models:install')
  .description('Install the ONNX models (and with --media the demo media) listed in the manifests, checking sha256 and size.')
  .option('--models-from <dir>', 'copy models from this local folder instead of downloading them (env VA_MODELS_DIR)', process.env.VA_MODELS_DIR)
  .option('--media-from <dir>', 'copy demo media from this local folder instead of downloading them (env VA_MEDIA_DIR)', process.env.VA_MEDIA_DIR)
  .option('--dest <dir>', 'folder to install the models into (env VA_MODEL_STORE)', defaultModelStore())
  .option('--media-dest <dir>', 'folder to install the demo media into (env VA_MEDIA_STORE)', defaultMediaStore())
  .option('--manifest <file>', 'model manifest', modelManifestPath())
  .option('--media-manifest <file>', 'demo media manifest', mediaManifestPath())
  .option('--media', 'also install the demo media', false)
  .option('--verify', 'only check the installed files against the manifests; change nothing', false)
  .option('--idle-timeout-sec <seconds>', 'abort a download after this many seconds without data', parsePositiveSeconds, 30)
  .action(async (options: CliOptions) => {
    process.exitCode = await run(options);
  });

await program.parseAsync(process.argv);
