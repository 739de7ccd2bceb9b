// The committed manifests against the real files: checksums and sizes of the models and media,
// tensor names and shapes read from the ONNX files, and an installation from the local folders.
import assert from 'node:assert/strict';
import { readdir, readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { createLogger } from '../src/common/log.js';
import { installAssets, verifyAssets } from '../src/assets/install.js';
import { loadManifest, loadModelManifest, type AssetEntry } from '../src/assets/manifest.js';
import { mediaManifestPath, modelManifestPath } from '../src/assets/paths.js';
import { sha256OfFile } from '../src/assets/verified-file.js';
import { fixturesDir, modelsDir } from './support/assets.js';

const PRODUCT_MODELS = ['mobilefacenet.onnx', 'plate_detect.onnx', 'plate_rec_color.onnx', 'yolox_nano.onnx', 'yunet_n_dynamic.onnx'];
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);
const silentLogger = createLogger('assets-test', { level: 'silent' });

async function assertEntriesMatch(entries: readonly AssetEntry[], dir: string): Promise<void> {
  for (const entry of entries) {
    const filePath = path.join(dir, entry.file);
    assert.equal((await stat(filePath)).size, entry.bytes, `size of ${entry.file}`);
    assert.equal(await sha256OfFile(filePath), entry.sha256, `sha256 of ${entry.file}`);
  }
}

test('model manifest – lists the product models', async () => {
  const manifest = await loadModelManifest(modelManifestPath());

  assert.deepEqual(manifest.entries.map((entry) => entry.file).sort(), PRODUCT_MODELS);
  for (const entry of manifest.entries) {
    assert.match(entry.url, /^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//, `url of ${entry.file} pins a commit`);
  }
});

test('model manifest – matches VA_MODELS_DIR files', async (t) => {
  const dir = modelsDir(t);
  if (dir === null) return;
  const manifest = await loadModelManifest(modelManifestPath());
  const sums = new Map(
    (await readFile(path.join(dir, 'SHA256SUMS'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => {
        const [sha256, file] = line.split(/\s+/);
        return [file, sha256] as const;
      }),
  );

  await assertEntriesMatch(manifest.entries, dir);
  for (const entry of manifest.entries) assert.equal(entry.sha256, sums.get(entry.file), `SHA256SUMS line of ${entry.file}`);
});

test('model manifest – tensor specs match ONNX files', async (t) => {
  const dir = modelsDir(t);
  if (dir === null) return;
  const manifest = await loadModelManifest(modelManifestPath());

  for (const entry of manifest.entries) {
    const session: InferenceSession = await InferenceSession.create(path.join(dir, entry.file));
    try {
      const actual: object[] = [...session.inputMetadata, ...session.outputMetadata].map((meta) =>
        meta.isTensor ? { name: meta.name, dtype: meta.type, shape: [...meta.shape] } : { name: meta.name },
      );
      const expected = [...entry.inputs, ...entry.outputs].map((spec) => ({ name: spec.name, dtype: spec.dtype, shape: spec.shape }));
      assert.deepEqual(actual, expected, `inputs and outputs of ${entry.file}`);
    } finally {
      await session.release();
    }
  }
});

test('media manifest – matches VA_FIXTURES_DIR files', async (t) => {
  const dir = fixturesDir(t);
  if (dir === null) return;
  const manifest = await loadManifest(mediaManifestPath());

  assert.equal(manifest.kind, 'media');
  await assertEntriesMatch(manifest.entries, dir);
});

test('media manifest – covers demo media and every plate photo', async (t) => {
  const dir = fixturesDir(t);
  if (dir === null) return;
  const manifest = await loadManifest(mediaManifestPath());
  const files = new Set(manifest.entries.map((entry) => entry.file));
  const platePhotos = (await readdir(path.join(dir, 'plates'), { recursive: true }))
    .map((name) => `plates/${String(name).split(path.sep).join('/')}`)
    .filter((file) => IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase()));

  assert.ok(platePhotos.length >= 33, `found ${platePhotos.length} plate photos`);
  for (const file of ['faces/subject-a-enrol.png', 'video/stage-two-speakers.mp4', 'video/pedestrians-overhead.avi', ...platePhotos]) {
    assert.ok(files.has(file), `media manifest lacks ${file}`);
  }
});

test('installAssets – installs real assets from folders', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (models === null || fixtures === null) return;
  const destRoot = await mkdtemp(path.join(tmpdir(), 'assets-real-'));
  t.after(() => rm(destRoot, { recursive: true, force: true }));
  const sets = [
    { manifest: await loadManifest(modelManifestPath()), sourceDir: models, destDir: path.join(destRoot, 'models') },
    { manifest: await loadManifest(mediaManifestPath()), sourceDir: fixtures, destDir: path.join(destRoot, 'media') },
  ];

  for (const set of sets) {
    const report = await installAssets({ ...set, logger: silentLogger });
    assert.equal(report.installed, set.manifest.entries.length);
    assert.equal(report.failed, 0);

    const verified = await verifyAssets({ manifest: set.manifest, destDir: set.destDir });
    assert.deepEqual(
      verified.filter((result) => result.status !== 'ok'),
      [],
    );
  }
});
