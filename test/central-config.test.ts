// Central config: strict schema, defaults, path resolution and error messages naming field, value and expectation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CentralConfigError, loadCentralConfig, parseCentralConfig } from '../src/central/config.js';

const minimal = { broker: { url: 'mqtt://127.0.0.1:1883' }, database: 'var/central.sqlite', hotlist: 'hotlist.csv' };

function configError(raw: unknown): CentralConfigError {
  try {
    parseCentralConfig(raw, '/srv/central', 'test.json');
  } catch (error) {
    assert.ok(error instanceof CentralConfigError, `expected CentralConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('config should have been rejected');
}

test('config – fills defaults and resolves paths', () => {
  const config = parseCentralConfig(minimal, '/srv/central');
  assert.equal(config.database, '/srv/central/var/central.sqlite');
  assert.equal(config.hotlist, '/srv/central/hotlist.csv');
  assert.equal(config.broker.protocolVersion, 5);
  assert.equal(config.broker.clientId, 'patrol-central');
  assert.equal(config.faceThreshold, 0.4);
  assert.equal(config.hitCooldownMs, 60_000);
  assert.equal(config.http.port, 9464);
  assert.deepEqual(config.watchlist, []);

  const withWatchlist = parseCentralConfig(
    { ...minimal, modelsDir: '../models', watchlist: [{ subjectId: 'subject-a', label: 'a', photos: ['faces/a.png', '/abs/a2.jpg'] }] },
    '/srv/central',
  );
  assert.equal(withWatchlist.modelsDir, '/srv/models');
  assert.deepEqual(withWatchlist.watchlist[0]?.photos, ['/srv/central/faces/a.png', '/abs/a2.jpg']);
});

test('config – accepts an inline hotlist', () => {
  const config = parseCentralConfig({ ...minimal, hotlist: [{ plate: '川A8H458', reason: 'stolen', priority: 1 }] }, '/srv');
  assert.deepEqual(config.hotlist, [{ plate: '川A8H458', reason: 'stolen', priority: 1 }]);
});

test('config – rejects unknown keys by name', () => {
  const error = configError({ ...minimal, databse: 'x.sqlite', broker: { url: 'mqtt://127.0.0.1:1883', qos: 2 } });
  assert.equal(error.code, 'CONFIG_INVALID');
  assert.match(error.message, /\(root\): unknown key\(s\) "databse"/);
  assert.match(error.message, /broker: unknown key\(s\) "qos"/);
});

test('config – errors name field, value and expectation', () => {
  const error = configError({ ...minimal, faceThreshold: 1.4, http: { port: 70000 }, broker: { url: 'ftp://user:secret@127.0.0.1' } });
  assert.match(error.message, /faceThreshold: should be a cosine similarity from 0 to 1 \(got 1\.4\)/);
  assert.match(error.message, /http\.port: should be at most 65535 \(got 70000\)/);
  assert.match(error.message, /broker\.url: should be a URL starting with mqtt:\/\/.*\(got "ftp:\/\/\*\*\*@127\.0\.0\.1"\)/);
  assert.ok(!error.message.includes('secret'), 'credentials in the broker URL must not appear in the error');
});

test('config – wrong type named once', () => {
  const error = configError({ ...minimal, faceThreshold: '0.4', watchlist: 'x', web: { enabled: 'yes' } });
  const lines = error.message.split('\n');
  assert.ok(lines.includes('  faceThreshold: should be a number (got "0.4")'), error.message);
  assert.ok(lines.includes('  watchlist: should be an array (got "x")'), error.message);
  assert.ok(lines.includes('  web.enabled: should be true or false (got "yes")'), error.message);
  assert.doesNotMatch(error.message, /received|Invalid input|instead got/);
});

test('config – never echoes subject labels', () => {
  const error = configError({ ...minimal, modelsDir: 'm', watchlist: [{ subjectId: 'subject-a', label: 'x'.repeat(201) + 'Name', photos: ['a.png'] }] });
  assert.match(error.message, /watchlist\.0\.label: .*\(value hidden: labels name people\)/);
  assert.ok(!error.message.includes('Name'));
});

test('config – checks cross-field rules', () => {
  const noModels = configError({ ...minimal, watchlist: [{ subjectId: 'subject-a', label: 'a', photos: ['a.png'] }] });
  assert.match(noModels.message, /modelsDir: is required when the watchlist is not empty.* \(got nothing\)/);

  const subject = { subjectId: 'subject-a', label: 'a', photos: ['a.png'] };
  const twice = configError({ ...minimal, modelsDir: 'm', watchlist: [subject, subject] });
  assert.match(twice.message, /watchlist\.1\.subjectId: should be unique in the watchlist \(got "subject-a"\)/);
});

test('config – file errors name the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'central-config-'));
  try {
    const file = path.join(dir, 'central.json');
    writeFileSync(file, '{ "broker": ');
    assert.throws(() => loadCentralConfig(file), (error: unknown) => error instanceof CentralConfigError && error.code === 'CONFIG_INVALID_JSON' && error.message.includes(file));
    assert.throws(() => loadCentralConfig(path.join(dir, 'missing.json')), { code: 'CONFIG_READ_FAILED' });

    writeFileSync(file, JSON.stringify(minimal));
    assert.equal(loadCentralConfig(file).hotlist, path.join(dir, 'hotlist.csv'), 'relative paths resolve against the config file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config – accepts PostgreSQL and fleet settings', () => {
  const config = parseCentralConfig(
    { ...minimal, database: { postgres: { url: 'postgres://central@db.invalid:5432/patrol' } }, broker: { url: 'mqtt://127.0.0.1:1883', ingestConnections: 4 } },
    '/srv/central',
  );
  assert.deepEqual(config.database, { postgres: { url: 'postgres://central@db.invalid:5432/patrol', schema: 'public', poolSize: 10 } });
  assert.equal(config.broker.shareGroup, 'central');
  assert.equal(config.broker.ingestConnections, 4);
  assert.equal(config.retention.faceSightingsDays, 7);
  assert.equal(config.lists.signingKeyFile, undefined);

  const withKey = parseCentralConfig({ ...minimal, lists: { signingKeyFile: 'keys/lists.pem' } }, '/srv/central');
  assert.equal(withKey.lists.signingKeyFile, '/srv/central/keys/lists.pem');
});

test('config – checks fleet cross-field rules', () => {
  const unshared = configError({ ...minimal, broker: { url: 'mqtt://127.0.0.1:1883', shareGroup: null, ingestConnections: 2 } });
  assert.match(unshared.message, /broker\.ingestConnections: should be 1 unless broker\.shareGroup is set.* \(got 2\)/);
  const unknownList = configError({ ...minimal, modelsDir: 'm', watchlist: [{ subjectId: 'subject-a', listId: 'wanted', label: 'a', photos: ['a.png'] }] });
  assert.match(unknownList.message, /watchlist\.0\.listId: should name a list in faceLists/);
  const badSchema = configError({ ...minimal, database: { postgres: { url: 'postgres://x@127.0.0.1/db', schema: 'Drop Table' } } });
  assert.match(badSchema.message, /database/);
});

test('config – broker TLS and password source', () => {
  const config = parseCentralConfig(
    {
      ...minimal,
      broker: { url: 'mqtts://broker.example:8883', username: 'central', passwordFile: 'secrets/broker-password', tls: { caFile: 'certs/ca.crt', certFile: '/etc/patrol/central.crt', keyFile: 'certs/central.key' } },
    },
    '/srv/central',
  );
  assert.equal(config.broker.username, 'central');
  assert.equal(config.broker.passwordFile, '/srv/central/secrets/broker-password', 'relative paths resolve against the config file');
  assert.deepEqual(config.broker.tls, { caFile: '/srv/central/certs/ca.crt', certFile: '/etc/patrol/central.crt', keyFile: '/srv/central/certs/central.key' });

  const fromEnv = parseCentralConfig({ ...minimal, broker: { url: 'mqtt://127.0.0.1:1883', username: 'central', passwordEnv: 'PATROL_BROKER_PASSWORD' } }, '/srv/central');
  assert.equal(fromEnv.broker.passwordEnv, 'PATROL_BROKER_PASSWORD');
  assert.equal(fromEnv.broker.tls, undefined);
});

test('config – inline broker password rejected without echo', () => {
  const error = configError({ ...minimal, broker: { url: 'mqtt://127.0.0.1:1883', username: 'central', password: 'hunter2-secret' } });
  assert.equal(error.code, 'CONFIG_INVALID');
  assert.match(error.message, /broker\.password: secrets never live in the config file; name an environment variable \(broker\.passwordEnv\) or a file \(broker\.passwordFile\) instead/);
  assert.doesNotMatch(error.message, /hunter2/);

  const inUrl = configError({ ...minimal, broker: { url: 'mqtt://central:hunter2-secret@127.0.0.1:1883' } });
  assert.match(inUrl.message, /broker\.url: should not contain a user name or password; use broker\.username and passwordEnv or passwordFile/);
  assert.doesNotMatch(inUrl.message, /hunter2/);

  const misplaced = configError({ ...minimal, broker: { url: 'mqtt://127.0.0.1:1883', username: 'central', passwordEnv: 'hunter2 secret' } });
  assert.match(misplaced.message, /broker\.passwordEnv: should be an environment variable name \(value hidden: it may be a secret\)/);
  assert.doesNotMatch(misplaced.message, /hunter2/);
});

test('config – broker credential rules', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['both password sources', { url: 'mqtt://h', username: 'central', passwordEnv: 'P', passwordFile: '/p' }, /broker: set either passwordEnv or passwordFile, not both/],
    ['password without username', { url: 'mqtt://h', passwordEnv: 'P' }, /broker\.username: should be set when a password is configured \(got nothing\)/],
    ['TLS on a plain URL', { url: 'mqtt://h', tls: { caFile: 'a', certFile: 'b', keyFile: 'c' } }, /broker\.url: should start with mqtts:\/\/ or wss:\/\/ when broker\.tls is set \(got "mqtt:\/\/h"\)/],
    ['incomplete TLS', { url: 'mqtts://h', tls: { caFile: 'a', certFile: 'b' } }, /broker\.tls\.keyFile: should be a string \(got nothing\)/],
  ];
  for (const [name, broker, expected] of cases) {
    assert.match(configError({ ...minimal, broker }).message, expected, name);
  }
});
