// Default store locations resolve against the project root whatever the working directory, and
// the VA_MODEL_STORE / VA_MEDIA_STORE variables override them.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultMediaStore, defaultModelStore, mediaManifestPath, modelManifestPath, projectRoot } from '../src/assets/paths.js';

const expectedRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function withEnvironment(values: Record<string, string | undefined>, run: () => void): void {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const savedCwd = process.cwd();
  try {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    run();
  } finally {
    process.chdir(savedCwd);
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

test('paths – defaults ignore working directory', () => {
  withEnvironment({ VA_MODEL_STORE: undefined, VA_MEDIA_STORE: undefined }, () => {
    process.chdir(tmpdir());

    assert.equal(projectRoot(), expectedRoot);
    assert.equal(defaultModelStore(), path.join(expectedRoot, 'var', 'models'));
    assert.equal(defaultMediaStore(), path.join(expectedRoot, 'var', 'media'));
    assert.equal(modelManifestPath(), path.join(expectedRoot, 'models', 'manifest.json'));
    assert.equal(mediaManifestPath(), path.join(expectedRoot, 'models', 'media.json'));
  });
});

test('paths – environment overrides stores', () => {
  withEnvironment({ VA_MODEL_STORE: '/srv/patrol/models', VA_MEDIA_STORE: 'data/media' }, () => {
    process.chdir(tmpdir());

    assert.equal(defaultModelStore(), '/srv/patrol/models');
    assert.equal(defaultMediaStore(), path.join(expectedRoot, 'data', 'media'));
  });
});
