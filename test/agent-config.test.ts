// The agent's config validation: every error names the field, the value and what was expected.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, diskBudgetOf, loadAgentConfig, parseAgentConfig } from '../agent/config.js';
import { loadBrokerSecrets, SecretError } from '../agent/ops/secrets.js';
import { brokerClientOptions } from '../agent/uplink/connect.js';
import { projectRoot } from '../src/assets/paths.js';

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

test('agent config – broker address checked', () => {
  const cases: Array<[string, RegExp]> = [
    ['mqtt://127.0.0.1:99999', /broker\.url: should have a port from 1 to 65535/],
    ['mqtt://127.0.0.1:-1', /broker\.url: should have a port from 1 to 65535/],
    ['mqtt://[::1', /broker\.url: should be a valid URL/],
    ['mqtt://', /broker\.url: should name a host/],
    ['mqtt://127.0.0.1 :1883', /broker\.url: should not contain spaces/],
    ['mqtt://127.0.0.1:0', /broker\.url: should have a port from 1 to 65535/],
  ];
  for (const [url, expected] of cases) {
    assert.throws(() => parseAgentConfig({ ...valid, broker: { url } }, 'test'), (error: Error) => error instanceof ConfigError && expected.test(error.message), url);
  }
  assert.equal(parseAgentConfig({ ...valid, broker: { url: 'mqtts://[::1]:8883' } }, 'test').broker.url, 'mqtts://[::1]:8883');
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

test('agent config – inline password rejected without echo', () => {
  const inline = { ...valid, broker: { url: 'mqtt://127.0.0.1:1883', username: 'car-1', password: 'hunter2-secret' } };
  assert.throws(
    () => parseAgentConfig(inline, 'test'),
    (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /broker\.password: secrets never live in the config file/);
      assert.match(error.message, /passwordEnv/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});

test('agent config – credentials in url not echoed', () => {
  const bad = { ...valid, broker: { url: 'mqtt://car:topsecret@127.0.0.1:1883', protocolVersion: 7 } };
  assert.throws(() => parseAgentConfig(bad, 'test'), (error: Error) => /broker\.protocolVersion/.test(error.message) && !/topsecret/.test(error.message));
  const inUrl = { ...valid, broker: { url: 'mqtt://car:topsecret@127.0.0.1:1883' } };
  assert.throws(() => parseAgentConfig(inUrl, 'test'), (error: Error) => /broker\.url: should not contain a user name or password/.test(error.message) && !/topsecret/.test(error.message));
  const misspelt = { ...valid, broker: { url: 'mqtt://127.0.0.1:1883', username: 'car', pw: 'topsecret' } };
  assert.throws(() => parseAgentConfig(misspelt, 'test'), (error: Error) => /broker: unknown key\(s\) "pw"/.test(error.message) && !/topsecret/.test(error.message));
  const tlsOnPlain = { ...valid, broker: { url: 'mqtt://127.0.0.1:1883', tls: { caFile: 'a', certFile: 'b', keyFile: 'c' } } };
  assert.throws(() => parseAgentConfig(tlsOnPlain, 'test'), (error: Error) => /broker\.url: should start with mqtts:\/\//.test(error.message));
});

test('agent config – cross-field rules', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['both password sources', { broker: { url: 'mqtt://h', username: 'u', passwordEnv: 'P', passwordFile: '/p' } }, /either passwordEnv or passwordFile/],
    ['password without username', { broker: { url: 'mqtt://h', passwordEnv: 'P' } }, /broker\.username: should be set/],
    ['evidence cap above outbox cap', { storage: { outboxMaxMiB: 10, evidenceMaxMiB: 20 } }, /storage\.evidenceMaxMiB: should be at most storage\.outboxMaxMiB \(10\).*got 20/],
    ['bad env name', { broker: { url: 'mqtt://h', username: 'u', passwordEnv: 'no such' } }, /broker\.passwordEnv: should be an environment variable name/],
  ];
  for (const [name, override, expected] of cases) {
    assert.throws(() => parseAgentConfig({ ...valid, ...override }, 'test'), expected, name);
  }
});

test('agent config – ops sections get defaults', () => {
  const config = parseAgentConfig(valid, 'test');
  assert.deepEqual(config.storage, { outboxMaxMiB: 2048, evidenceMaxMiB: 1024 });
  assert.deepEqual(config.clock, { syncIntervalSec: 60, replyTimeoutMs: 5000 });
  assert.equal(config.gps, undefined);
  assert.equal(config.lists, undefined);
  const withGps = parseAgentConfig({ ...valid, gps: {} }, 'test');
  assert.deepEqual(withGps.gps, { enabled: true, host: '127.0.0.1', port: 2947, maxFixAgeMs: 5000 });
  assert.deepEqual(diskBudgetOf(parseAgentConfig({ ...valid, storage: { outboxMaxMiB: 2, evidenceMaxMiB: 1 } }, 'test')), { maxBytes: 2 * 1024 * 1024, evidenceMaxBytes: 1024 * 1024 });
});

test('broker secrets – env, file and TLS files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-secrets-'));
  const passwordFile = path.join(dir, 'password');
  writeFileSync(passwordFile, 's3cret-from-file\n');
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(dir, name), `-----BEGIN ${name}-----\n`);

  const fromEnv = loadBrokerSecrets({ ...broker(), username: 'u', passwordEnv: 'CAR_PW' }, { env: { CAR_PW: 'from-env' }, readFile: readFileSync });
  assert.equal(fromEnv.password, 'from-env');
  const fromFile = loadBrokerSecrets({ ...broker(), username: 'u', passwordFile }, { env: {}, readFile: readFileSync });
  assert.equal(fromFile.password, 's3cret-from-file', 'trailing newline removed');
  const tls = loadBrokerSecrets({ ...broker(), tls: { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } }, { env: {}, readFile: readFileSync });
  assert.match(tls.tls!.key.toString(), /key\.pem/);
  rmSync(dir, { recursive: true });
});

test('broker secrets – missing sources named', () => {
  assert.throws(
    () => loadBrokerSecrets({ ...broker(), username: 'u', passwordEnv: 'CAR_PW' }, { env: {}, readFile: readFileSync }),
    (error: Error) => error instanceof SecretError && error.code === 'SECRET_ENV_MISSING' && /CAR_PW/.test(error.message),
  );
  assert.throws(
    () => loadBrokerSecrets({ ...broker(), username: 'u', passwordFile: '/nonexistent/pw' }, { env: {}, readFile: readFileSync }),
    (error: Error) => error instanceof SecretError && error.code === 'SECRET_FILE_UNREADABLE' && /\/nonexistent\/pw \(broker\.passwordFile\): ENOENT/.test(error.message),
  );
  assert.throws(
    () => loadBrokerSecrets({ ...broker(), username: 'u', passwordEnv: 'CAR_PW' }, { env: { CAR_PW: '' }, readFile: readFileSync }),
    (error: Error) => error instanceof SecretError && error.code === 'SECRET_EMPTY',
  );
});

test('broker options – TLS and password applied', () => {
  const config = parseAgentConfig({ ...valid, broker: { url: 'mqtts://127.0.0.1:8883', username: 'car-1', passwordEnv: 'P', tls: { caFile: 'a', certFile: 'b', keyFile: 'c' } } }, 'test');
  const options = brokerClientOptions(config, { password: 'pw', tls: { ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key') } });
  assert.equal(options.clientId, 'agent-car-1');
  assert.equal(options.username, 'car-1');
  assert.equal(options.password, 'pw');
  assert.equal(options.rejectUnauthorized, true);
  assert.equal(String(options.key), 'key');
  assert.equal(options.clean, true);
});

function broker() {
  return parseAgentConfig(valid, 'test').broker;
}

test('agent main – start errors exit 2 with the cause', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-main-'));
  const run = (config: unknown, env: NodeJS.ProcessEnv = {}) => {
    const file = path.join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify(config));
    return spawnSync(process.execPath, ['--import', 'tsx', 'agent/main.ts', '--config', file], { cwd: projectRoot(), encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  };

  const badValue = run({ ...valid, cameras: [{ id: 'front', source: 'rtsp://x/y', analysisFps: 0 }] });
  assert.equal(badValue.status, 2);
  assert.match(badValue.stderr, /cameras\.0\.analysisFps: .*\(got 0\)/);

  const missingSecret = run({ ...valid, broker: { url: 'mqtt://127.0.0.1:9', username: 'car-1', passwordEnv: 'PATROL_TEST_MISSING_PW' } });
  assert.equal(missingSecret.status, 2);
  assert.match(missingSecret.stderr, /environment variable PATROL_TEST_MISSING_PW \(broker\.passwordEnv\) is not set/);

  const missingKey = run({ ...valid, lists: { trustedKeyFiles: [path.join(dir, 'absent.pem')] } });
  assert.equal(missingKey.status, 2);
  assert.match(missingKey.stderr, /cannot read the list public key .*absent\.pem/);
  rmSync(dir, { recursive: true });
});
