// Log redaction: log lines never carry credentials, face data, images, payloads or the plate texts
// of non-hits. Checked on the real logger's output (a child process writing JSON to stdout) and on
// the lines the car's matcher and eviction writer produce.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { CarLists } from '../agent/lists/car-lists.js';
import { CarMatcher } from '../agent/lists/car-matcher.js';
import { AgentMetrics } from '../agent/metrics.js';
import { recordEviction } from '../agent/uplink/open-outbox.js';
import { projectRoot } from '../src/assets/paths.js';
import { REDACTED_PATHS, redactCredentials } from '../src/common/log.js';
import { listKeyId, signListPayload, type ListPayload } from '../src/protocol/lists.js';
import { listSnapshotTopic } from '../src/protocol/topics.js';

/** Creates a logger with the project's redaction that writes into an array. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug', redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } }, sink), lines };
}

test('logger – secrets and payloads censored', () => {
  const script = `
    import { createLogger } from './src/common/log.ts';
    const log = createLogger('redaction-test');
    log.info({ password: 'pw-hunter2', url: 'mqtt://car:pw-in-url@broker:1883', embedding: [0.125, 0.5], plateText: '沪C99999', payload: 'raw-payload-bytes', jpeg: 'base64-image', broker: { password: 'nested-pw', url: 'rtsp://cam:cam-pw@10.0.0.9/main' } }, 'line with secrets');
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot(), encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
  assert.equal(run.status, 0, run.stderr);
  const output = run.stdout;
  assert.match(output, /line with secrets/);
  for (const secret of ['pw-hunter2', 'pw-in-url', '0.125', '沪C99999', 'raw-payload-bytes', 'base64-image', 'nested-pw', 'cam-pw']) {
    assert.ok(!output.includes(secret), `${secret} should not be logged: ${output}`);
  }
});

test('redactCredentials – user and password removed from URLs', () => {
  assert.equal(redactCredentials('ffmpeg: rtsp://admin:12345@10.1.1.2:554/h264 failed'), 'ffmpeg: rtsp://***@10.1.1.2:554/h264 failed');
  assert.equal(redactCredentials('mqtts://car-1:s3cret@broker.example:8883'), 'mqtts://***@broker.example:8883');
  assert.equal(redactCredentials('no url here'), 'no url here');
});

test('car matcher – logs hits, never non-hit plates or labels', () => {
  const { logger, lines } = capturingLogger();
  const keys = generateKeyPairSync('ed25519');
  const dir = mkdtempSync(path.join(tmpdir(), 'redaction-'));
  const lists = new CarLists({ dir, trustedKeys: new Map([[listKeyId(keys.publicKey), keys.publicKey]]), logger });
  const snapshot = { v: 1, list: 'hotlist', kind: 'snapshot', version: 1, issuedAtMs: 1, items: [{ key: '川A8H458', item: { plate: '川A8H458', reason: 'stolen vehicle', priority: 1, expiresAtMs: null } }] } as ListPayload;
  lists.receive(listSnapshotTopic('hotlist'), Buffer.from(JSON.stringify(signListPayload(snapshot, keys.privateKey))));
  const matcher = new CarMatcher({ lists, logger });

  assert.equal(matcher.onCandidate({ kind: 'plate', cameraId: 'front', trackId: 't1', plate: { text: '沪C12345', confidence: 0.9 } }), null);
  assert.notEqual(matcher.onCandidate({ kind: 'plate', cameraId: 'front', trackId: 't2', plate: { text: '川A8H458', confidence: 0.9 } }), null);
  const output = lines.join('');
  assert.ok(!output.includes('沪C12345'), 'a plate that matched nothing is never logged');
  assert.ok(output.includes('川A8H458'), 'the plate of a hit is logged');
  rmSync(dir, { recursive: true });
});

test('eviction log – counts and sequence numbers only', () => {
  const { logger, lines } = capturingLogger();
  recordEviction({ kind: 'evidence', cap: 'evidence', seqs: [4, 5, 6], bytesFreed: 9000, payloadBytes: 1000, evidenceBytes: 500 }, logger, new AgentMetrics());
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(line.count, 3);
  assert.deepEqual(line.seqs, [4, 5, 6]);
  assert.equal(line.level, 40, 'an eviction is a warning');
  assert.deepEqual(Object.keys(line).sort(), ['bytesFreed', 'cap', 'count', 'evidenceBytes', 'kind', 'level', 'msg', 'outboxBytes', 'pid', 'hostname', 'seqs', 'time'].sort());
});

test('redactCredentials – malformed URL and secret keys masked', () => {
  assert.equal(redactCredentials('mqtt//caruser:Secr3t@host:1883'), 'mqtt//***@host:1883');
  assert.equal(redactCredentials('{"url":"x","pasword":"hunter2"}'), '{"url":"x","pasword":"***"}');
  assert.equal(redactCredentials('{"token": "a\\"b"}'), '{"token": "***"}');
  assert.equal(redactCredentials('no credentials in http://example/path'), 'no credentials in http://example/path');
});
