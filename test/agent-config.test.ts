// The agent's config validation: every error names the field, the value and what was expected.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadAgentConfig, parseAgentConfig } from '../agent/config.js';

const valid = {
  carId: 'car-1',
  broker: { url: 'mqtt://127.0.0.1:1883' },
  cameras: [{ id: 'front', source: 'rtsp://127.0.0.1:8554/front' }],
};

test('agent config – example file is valid', () => {
  const config = loadAgentConfig('config/agent.example.json');
  assert.equal(config.cameras.length, 3);
  assert.equal(config.broker.protocolVersion, 5);
});

test('agent config – defaults fill missing fields', () => {
  const config = parseAgentConfig(valid, 'test');
  assert.equal(config.cameras[0]!.analysisFps, 5);
  assert.deepEqual(config.cameras[0]!.analyses, ['plates', 'faces']);
  assert.equal(config.dataDir, 'var/agent');
});

test('agent config – unknown key rejected by name', () => {
  assert.throws(
    () => parseAgentConfig({ ...valid, cameraz: [] }, 'test'),
    (error: Error) => error instanceof ConfigError && /cameraz/.test(error.message),
  );
});

test('agent config – bad value names field and value', () => {
  const bad = { ...valid, cameras: [{ id: 'front', source: 'rtsp://x/y', analysisFps: -3 }] };
  assert.throws(
    () => parseAgentConfig(bad, 'test'),
    (error: Error) => /cameras\.0\.analysisFps/.test(error.message) && /got -3/.test(error.message),
  );
});

test('agent config – duplicate camera ids rejected', () => {
  const twice = { ...valid, cameras: [valid.cameras[0], valid.cameras[0]] };
  assert.throws(() => parseAgentConfig(twice, 'test'), /used twice/);
});

test('agent config – invalid JSON names the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-config-'));
  const file = path.join(dir, 'agent.json');
  writeFileSync(file, '{ "carId": "car-1", ');
  assert.throws(() => loadAgentConfig(file), (error: Error) => error instanceof ConfigError && error.message.includes(file) && /not valid JSON/.test(error.message));
  rmSync(dir, { recursive: true });
});

test('agent config – missing file named', () => {
  assert.throws(() => loadAgentConfig('/nonexistent/agent.json'), /cannot read agent config \/nonexistent\/agent\.json/);
});
