// Manifest validation: each invalid field is named by its path with the value received, and
// unreadable files get their own error code.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadManifest, loadModelManifest, ManifestError, parseManifest } from '../src/assets/manifest.js';

const SHA_A = 'a'.repeat(64);

function mediaEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { file: 'faces/a.png', url: 'https://example.org/a.png', sha256: SHA_A, bytes: 10, license: 'MIT', ...overrides };
}

function modelEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...mediaEntry({ file: 'net.onnx' }),
    job: 'Detect things.',
    inputs: [
      {
        name: 'input',
        dtype: 'float32',
        shape: [1, 3, 'height', 'width'],
        layout: 'NCHW',
        pixelFormat: 'BGR',
        normalisation: { divideBy: 255, mean: 0, std: 1 },
        preprocessing: 'Resize.',
      },
    ],
    outputs: [{ name: 'scores', dtype: 'float32', shape: [1, 3], layout: 'NC', description: 'Scores.', labels: ['x', 'y', 'z'] }],
    ...overrides,
  };
}

function messageOf(data: unknown): string {
  try {
    parseManifest(data, 'test.json');
  } catch (error) {
    assert.ok(error instanceof ManifestError);
    assert.equal(error.code, 'MANIFEST_INVALID');
    return error.message;
  }
  assert.fail('parseManifest accepted an invalid manifest');
}

test('parseManifest – accepts valid model and media manifests', () => {
  const models = parseManifest({ kind: 'models', description: 'd', entries: [modelEntry()] }, 'm.json');
  const media = parseManifest({ kind: 'media', description: 'd', entries: [mediaEntry()] }, 'media.json');

  assert.equal(models.kind, 'models');
  assert.equal(models.entries[0]?.file, 'net.onnx');
  assert.equal(media.kind, 'media');
  assert.equal(media.entries[0]?.sha256, SHA_A);
});

test('parseManifest – names invalid fields with values', () => {
  const message = messageOf({
    kind: 'media',
    description: 'd',
    entries: [mediaEntry(), mediaEntry({ file: 'b.png', sha256: 'ABC', bytes: 0, url: 'ftp://host/b.png' })],
  });

  assert.match(message, /^invalid manifest test\.json: /);
  assert.match(message, /entries\[1\]\.sha256: should be 64 lowercase hex digits, instead got "ABC"/);
  assert.match(message, /entries\[1\]\.bytes: should be a positive integer, instead got 0/);
  assert.match(message, /entries\[1\]\.url: should be an http or https URL, instead got "ftp:\/\/host\/b\.png"/);
  assert.doesNotMatch(message, /entries\[0\]/);
});

test('parseManifest – rejects paths leaving the folder', () => {
  for (const file of ['../escape.onnx', '/etc/passwd', 'a//b.png', 'plates/../../x', '.hidden.onnx', 'dir\\file.onnx']) {
    const message = messageOf({ kind: 'media', description: 'd', entries: [mediaEntry({ file })] });
    assert.match(message, /entries\[0\]\.file: should be a relative path/, `accepted ${file}`);
  }
});

test('parseManifest – rejects unknown keys and duplicates', () => {
  const message = messageOf({
    kind: 'media',
    description: 'd',
    entries: [mediaEntry({ mirror: 'x' }), mediaEntry()],
  });

  assert.match(message, /entries\[0\]: Unrecognized key: "mirror"/);
  assert.match(message, /entries\[1\]\.file: should be unique, "faces\/a\.png" appears twice/);
});

test('parseManifest – checks model tensor specs', () => {
  const badInput = modelEntry({
    inputs: [{ ...(modelEntry().inputs as object[])[0], layout: 'NHWC', pixelFormat: 'GRAY' }],
    outputs: [{ name: 'scores', dtype: 'float32', shape: [1, 4], layout: 'NC', description: 'Scores.', labels: ['x'] }],
  });
  const message = messageOf({ kind: 'models', description: 'd', entries: [badInput] });

  assert.match(message, /entries\[0\]\.inputs\[0\]\.layout: .*instead got "NHWC"/);
  assert.match(message, /entries\[0\]\.inputs\[0\]\.pixelFormat: .*instead got "GRAY"/);
  assert.match(message, /entries\[0\]\.outputs\[0\]\.labels: should have one label per class, 4 as in the last dimension of shape, instead got 1/);
});

test('parseManifest – model manifest requires tensor specs', () => {
  const message = messageOf({ kind: 'models', description: 'd', entries: [mediaEntry()] });

  assert.match(message, /entries\[0\]\.job: /);
  assert.match(message, /entries\[0\]\.inputs: /);
  assert.match(message, /entries\[0\]\.outputs: /);
});

test('loadManifest – file errors have codes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'assets-manifest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const notJson = path.join(dir, 'broken.json');
  await writeFile(notJson, '{ "kind": ');
  const media = path.join(dir, 'media.json');
  await writeFile(media, JSON.stringify({ kind: 'media', description: 'd', entries: [mediaEntry()] }));

  await assert.rejects(loadManifest(path.join(dir, 'absent.json')), { name: 'ManifestError', code: 'MANIFEST_NOT_FOUND' });
  await assert.rejects(loadManifest(notJson), (error: unknown) => {
    assert.ok(error instanceof ManifestError);
    assert.equal(error.code, 'MANIFEST_INVALID');
    assert.match(error.message, /broken\.json: not valid JSON/);
    return true;
  });
  await assert.rejects(loadModelManifest(media), { code: 'MANIFEST_INVALID', message: /kind should be "models", instead got "media"/ });
});
