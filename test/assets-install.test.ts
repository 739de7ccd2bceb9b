// Installer against a small HTTP server on 127.0.0.1 and against local folders, with files generated
// in a temp dir: downloads, checksum and size checks, dropped connections, timeouts and copies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../src/common/log.js';
import { AssetInstallError, ChecksumMismatchError, DownloadError } from '../src/assets/errors.js';
import { installAssets, verifyAssets } from '../src/assets/install.js';
import type { AssetEntry } from '../src/assets/manifest.js';

type Behaviour = 'serve' | 'serve-other' | 'serve-longer' | 'drop-midway' | 'stall-midway' | 'not-found';

interface Route {
  body: Buffer;
  behaviour: Behaviour;
}

const routes = new Map<string, Route>();
const requestCounts = new Map<string, number>();
let server: Server;
let baseUrl: string;
let workDir: string;
const silentLogger = createLogger('assets-test', { level: 'silent' });

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function respond(route: Route, response: import('node:http').ServerResponse): void {
  const half = route.body.subarray(0, route.body.length / 2);
  switch (route.behaviour) {
    case 'serve':
      response.writeHead(200, { 'content-length': route.body.length }).end(route.body);
      return;
    case 'serve-other': {
      const other = Buffer.from(route.body.map((byte) => byte ^ 0xff));
      response.writeHead(200, { 'content-length': other.length }).end(other);
      return;
    }
    case 'serve-longer': {
      const longer = Buffer.concat([route.body, randomBytes(256 * 1024)]);
      response.writeHead(200, { 'content-length': longer.length }).end(longer);
      return;
    }
    case 'drop-midway':
      response.writeHead(200, { 'content-length': route.body.length });
      response.write(half, () => setTimeout(() => response.socket?.destroy(), 20));
      return;
    case 'stall-midway':
      response.writeHead(200, { 'content-length': route.body.length });
      response.write(half);
      return;
    case 'not-found':
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
  }
}

/** Registers a generated file on the server and returns its manifest entry. */
function serveFile(file: string, behaviour: Behaviour, sizeBytes = 64 * 1024): { entry: AssetEntry; body: Buffer } {
  const body = randomBytes(sizeBytes);
  const urlPath = `/${routes.size}/${path.basename(file)}`;
  routes.set(urlPath, { body, behaviour });
  const entry: AssetEntry = { file, url: `${baseUrl}${urlPath}`, sha256: sha256(body), bytes: body.length, license: 'test' };
  return { entry, body };
}

async function freshDir(name: string): Promise<string> {
  const dir = path.join(workDir, `${name}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

async function installExpectingFailure(options: Parameters<typeof installAssets>[0]): Promise<AssetInstallError> {
  const error = await installAssets(options).then(
    () => null,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AssetInstallError, `expected AssetInstallError, got ${String(error)}`);
  return error;
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'assets-install-'));
  server = createServer((request, response) => {
    const urlPath = request.url ?? '';
    requestCounts.set(urlPath, (requestCounts.get(urlPath) ?? 0) + 1);
    const route = routes.get(urlPath);
    if (route) respond(route, response);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(workDir, { recursive: true, force: true });
});

test('installAssets – downloads and verifies files', async () => {
  const first = serveFile('first.bin', 'serve');
  const nested = serveFile('nested/dir/second.bin', 'serve', 300 * 1024);
  const destDir = await freshDir('download');

  const report = await installAssets({ manifest: { entries: [first.entry, nested.entry] }, destDir, logger: silentLogger });

  assert.equal(report.installed, 2);
  assert.equal(report.failed, 0);
  assert.deepEqual(
    report.results.map((result) => [result.file, result.status]),
    [
      ['first.bin', 'installed'],
      ['nested/dir/second.bin', 'installed'],
    ],
  );
  assert.deepEqual(await readFile(path.join(destDir, 'first.bin')), first.body);
  assert.deepEqual(await readFile(path.join(destDir, 'nested/dir/second.bin')), nested.body);
  assert.deepEqual(await listTree(destDir), ['first.bin', 'nested', 'nested/dir', 'nested/dir/second.bin']);
});

test('installAssets – rejects checksum mismatch', async () => {
  const served = serveFile('model.onnx', 'serve-other');
  const destDir = await freshDir('mismatch');

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  assert.equal(error.code, 'ASSET_INSTALL_FAILED');
  assert.equal(error.errors.length, 1);
  const mismatch = error.errors[0];
  assert.ok(mismatch instanceof ChecksumMismatchError);
  assert.equal(mismatch.code, 'CHECKSUM_MISMATCH');
  assert.equal(mismatch.file, 'model.onnx');
  assert.equal(mismatch.expectedSha256, served.entry.sha256);
  assert.notEqual(mismatch.actualSha256, served.entry.sha256);
  assert.match(mismatch.message, /^model\.onnx: checksum mismatch/);
  assert.ok(mismatch.message.includes(served.entry.sha256), 'message names the expected hash');
  assert.ok(mismatch.actualSha256 !== null);
  assert.ok(mismatch.message.includes(mismatch.actualSha256), 'message names the actual hash');
  assert.match(mismatch.message, /Retry the download/);
  assert.equal(error.report.results[0]?.status, 'failed');
  assert.deepEqual(await listTree(destDir), [], 'neither the file nor a partial file is left');
});

test('installAssets – stops an oversized download', async () => {
  const served = serveFile('big.bin', 'serve-longer');
  const destDir = await freshDir('oversized');

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  const mismatch = error.errors[0];
  assert.ok(mismatch instanceof ChecksumMismatchError);
  assert.equal(mismatch.actualSha256, null);
  assert.ok(mismatch.actualBytes > served.entry.bytes);
  assert.match(mismatch.message, /more than 65536 bytes/);
  assert.deepEqual(await listTree(destDir), []);
});

test('installAssets – dropped connection keeps old file', async () => {
  const served = serveFile('detector.onnx', 'drop-midway');
  const destDir = await freshDir('dropped');
  const oldContent = randomBytes(10_000);
  await writeFile(path.join(destDir, 'detector.onnx'), oldContent);

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  const failure = error.errors[0];
  assert.ok(failure instanceof DownloadError);
  assert.equal(failure.code, 'DOWNLOAD_FAILED');
  assert.match(failure.message, /^detector\.onnx: download failed: connection lost after \d+ bytes \(terminated/);
  assert.deepEqual(await readFile(path.join(destDir, 'detector.onnx')), oldContent, 'old file untouched');
  assert.deepEqual(await listTree(destDir), ['detector.onnx'], 'no partial file left');
});

test('installAssets – 404 gives a clear error', async () => {
  const served = serveFile('missing.onnx', 'not-found');
  const destDir = await freshDir('not-found');

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  const failure = error.errors[0];
  assert.ok(failure instanceof DownloadError);
  assert.equal(failure.code, 'DOWNLOAD_FAILED');
  assert.equal(failure.status, 404);
  assert.match(failure.message, /^missing\.onnx: download failed: HTTP 404 Not Found\. Check the network and the url/);
  assert.deepEqual(await listTree(destDir), []);
});

test('installAssets – idle timeout aborts stalled download', async () => {
  const served = serveFile('slow.onnx', 'stall-midway');
  const destDir = await freshDir('stalled');
  const startedMs = Date.now();

  const error = await installExpectingFailure({
    manifest: { entries: [served.entry] },
    destDir,
    logger: silentLogger,
    idleTimeoutMs: 300,
  });

  const elapsedMs = Date.now() - startedMs;
  const failure = error.errors[0];
  assert.ok(failure instanceof DownloadError);
  assert.equal(failure.code, 'DOWNLOAD_TIMEOUT');
  assert.match(failure.message, /no data arrived for 300 ms/);
  assert.ok(elapsedMs >= 300, `timed out after ${elapsedMs} ms`);
  assert.ok(elapsedMs < 5_000, `timed out after ${elapsedMs} ms`);
  assert.deepEqual(await listTree(destDir), []);
});

test('installAssets – reports every failure', async () => {
  const missing = serveFile('a-missing.bin', 'not-found');
  const good = serveFile('b-good.bin', 'serve');
  const corrupt = serveFile('c-corrupt.bin', 'serve-other');
  const destDir = await freshDir('several');

  const error = await installExpectingFailure({
    manifest: { entries: [missing.entry, good.entry, corrupt.entry] },
    destDir,
    logger: silentLogger,
  });

  assert.deepEqual(
    error.errors.map((failure) => [failure.file, failure.code]),
    [
      ['a-missing.bin', 'DOWNLOAD_FAILED'],
      ['c-corrupt.bin', 'CHECKSUM_MISMATCH'],
    ],
  );
  assert.match(error.message, /^2 asset\(s\) failed to install:/);
  assert.match(error.message, /a-missing\.bin: download failed/);
  assert.match(error.message, /c-corrupt\.bin: checksum mismatch/);
  assert.equal(error.report.installed, 1);
  assert.deepEqual(await readFile(path.join(destDir, 'b-good.bin')), good.body);
});

test('installAssets – copies from a local folder', async () => {
  const served = serveFile('plates/photo.jpg', 'serve');
  const sourceDir = await freshDir('source');
  await mkdir(path.join(sourceDir, 'plates'));
  await writeFile(path.join(sourceDir, 'plates/photo.jpg'), served.body);
  const destDir = await freshDir('copy');
  const urlPath = new URL(served.entry.url).pathname;
  const fetchImpl: typeof fetch = () => Promise.reject(new Error('copy must not download'));

  const report = await installAssets({ manifest: { entries: [served.entry] }, destDir, sourceDir, fetchImpl, logger: silentLogger });

  const result = report.results[0];
  assert.equal(result?.status, 'installed');
  assert.equal(result.status === 'installed' && result.source, 'copy');
  assert.deepEqual(await readFile(path.join(destDir, 'plates/photo.jpg')), served.body);
  assert.equal(requestCounts.get(urlPath) ?? 0, 0, 'server was not asked');
});

test('installAssets – local copy with wrong content rejected', async () => {
  const served = serveFile('face.onnx', 'serve');
  const sourceDir = await freshDir('bad-source');
  await writeFile(path.join(sourceDir, 'face.onnx'), randomBytes(served.entry.bytes));
  const destDir = await freshDir('bad-copy');

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, sourceDir, logger: silentLogger });

  const mismatch = error.errors[0];
  assert.ok(mismatch instanceof ChecksumMismatchError);
  assert.ok(mismatch.message.includes(`from source folder ${sourceDir}`), mismatch.message);
  assert.deepEqual(await listTree(destDir), []);
});

test('installAssets – missing local file named', async () => {
  const served = serveFile('absent.onnx', 'serve');
  const sourceDir = await freshDir('empty-source');
  const destDir = await freshDir('absent');

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, sourceDir, logger: silentLogger });

  assert.equal(error.errors[0]?.code, 'SOURCE_NOT_FOUND');
  assert.equal(error.errors[0]?.message, `absent.onnx: not found in source folder ${sourceDir}. Put the file there, or leave out the source folder to download it.`);
});

test('installAssets – skips files already present', async () => {
  const served = serveFile('present.onnx', 'serve');
  const destDir = await freshDir('present');
  const urlPath = new URL(served.entry.url).pathname;
  await installAssets({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });
  const firstMtimeMs = (await stat(path.join(destDir, 'present.onnx'))).mtimeMs;

  const report = await installAssets({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  assert.equal(report.present, 1);
  assert.equal(report.installed, 0);
  assert.equal(report.results[0]?.status, 'present');
  assert.equal(requestCounts.get(urlPath), 1, 'downloaded only once');
  assert.equal((await stat(path.join(destDir, 'present.onnx'))).mtimeMs, firstMtimeMs);
});

test('installAssets – replaces a corrupt file', async () => {
  const served = serveFile('corrupt.onnx', 'serve');
  const destDir = await freshDir('replace');
  await writeFile(path.join(destDir, 'corrupt.onnx'), randomBytes(served.entry.bytes));

  const report = await installAssets({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  assert.equal(report.installed, 1);
  assert.deepEqual(await readFile(path.join(destDir, 'corrupt.onnx')), served.body);
});

test('installAssets – removes stale partial files', async () => {
  const served = serveFile('stale.onnx', 'serve');
  const destDir = await freshDir('stale');
  const exited = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(exited.pid > 0);
  const stalePartial = path.join(destDir, `.stale.onnx.partial-${exited.pid}`);
  await writeFile(stalePartial, 'left by a killed installer');

  await installAssets({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  assert.equal(existsSync(stalePartial), false);
  assert.deepEqual(await listTree(destDir), ['stale.onnx']);
});

test('installAssets – unusable destination reported', async () => {
  const served = serveFile('blocked.onnx', 'serve');
  const parentDir = await freshDir('blocked');
  const destDir = path.join(parentDir, 'not-a-folder');
  await writeFile(destDir, 'a regular file where the destination folder should be');

  const error = await installExpectingFailure({ manifest: { entries: [served.entry] }, destDir, logger: silentLogger });

  assert.equal(error.errors[0]?.code, 'IO_FAILED');
  assert.match(error.errors[0]?.message ?? '', /^blocked\.onnx: install failed: .*Check that the source is readable/);
});

test('verifyAssets – reports ok, missing and mismatch', async () => {
  const good = serveFile('good.bin', 'serve');
  const missing = serveFile('missing.bin', 'serve');
  const changed = serveFile('changed.bin', 'serve');
  const destDir = await freshDir('verify');
  await writeFile(path.join(destDir, 'good.bin'), good.body);
  const changedBody = Buffer.concat([changed.body, Buffer.from('x')]);
  await writeFile(path.join(destDir, 'changed.bin'), changedBody);

  const results = await verifyAssets({ manifest: { entries: [good.entry, missing.entry, changed.entry] }, destDir });

  assert.deepEqual(results, [
    { file: 'good.bin', status: 'ok', bytes: good.entry.bytes },
    { file: 'missing.bin', status: 'missing' },
    {
      file: 'changed.bin',
      status: 'mismatch',
      expectedSha256: changed.entry.sha256,
      actualSha256: sha256(changedBody),
      expectedBytes: changed.entry.bytes,
      actualBytes: changed.entry.bytes + 1,
    },
  ]);
});
