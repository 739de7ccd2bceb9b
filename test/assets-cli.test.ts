// `npm run models:install` as a child process, on a small generated manifest and source folder:
// one line per file, exit code 1 on any failure, --verify and manifest errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = path.join(projectRoot, 'src/assets/install-cli.ts');
const execFileAsync = promisify(execFile);

let workDir: string;
let sourceDir: string;
let manifestPath: string;
const bodies = new Map<string, Buffer>();

interface CliOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function runCli(args: string[]): Promise<CliOutput> {
  const env = { ...process.env, VA_MODELS_DIR: '', VA_MEDIA_DIR: '', LOG_LEVEL: 'silent' };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', cliPath, ...args], { cwd: projectRoot, env });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { exitCode: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'assets-cli-'));
  sourceDir = path.join(workDir, 'source');
  await mkdir(sourceDir);
  const entries = [];
  for (const file of ['alpha.onnx', 'beta.onnx']) {
    const body = randomBytes(4096);
    bodies.set(file, body);
    await writeFile(path.join(sourceDir, file), body);
    entries.push({
      file,
      url: `http://127.0.0.1:9/${file}`,
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: body.length,
      license: 'test',
    });
  }
  manifestPath = path.join(workDir, 'media.json');
  await writeFile(manifestPath, JSON.stringify({ kind: 'media', description: 'CLI test files', entries }));
});

after(() => rm(workDir, { recursive: true, force: true }));

test('models:install – installs from a folder', async () => {
  const destDir = path.join(workDir, 'dest-ok');

  const output = await runCli(['--manifest', manifestPath, '--models-from', sourceDir, '--dest', destDir]);

  assert.equal(output.exitCode, 0, output.stderr);
  assert.match(output.stdout, /^installed {2}alpha\.onnx \(4096 bytes, copied in \d+ ms\)$/m);
  assert.match(output.stdout, /^installed {2}beta\.onnx \(4096 bytes, copied in \d+ ms\)$/m);
  assert.match(output.stdout, /^models: 2 installed, 0 already present, 0 failed in /m);
  assert.deepEqual(await readFile(path.join(destDir, 'alpha.onnx')), bodies.get('alpha.onnx'));

  const again = await runCli(['--manifest', manifestPath, '--models-from', sourceDir, '--dest', destDir]);
  assert.equal(again.exitCode, 0);
  assert.match(again.stdout, /^present {4}alpha\.onnx \(sha256 verified\)$/m);
});

test('models:install – exits 1 naming the failed file', async () => {
  const partialSource = path.join(workDir, 'partial-source');
  await mkdir(partialSource);
  await writeFile(path.join(partialSource, 'alpha.onnx'), bodies.get('alpha.onnx') ?? Buffer.alloc(0));
  const destDir = path.join(workDir, 'dest-partial');

  const output = await runCli(['--manifest', manifestPath, '--models-from', partialSource, '--dest', destDir]);

  assert.equal(output.exitCode, 1);
  assert.match(output.stdout, /^installed {2}alpha\.onnx/m);
  assert.match(output.stderr, /^FAILED {5}beta\.onnx: not found in source folder .*partial-source\./m);
  assert.match(output.stdout, /^models: 1 installed, 0 already present, 1 failed in /m);
});

test('models:install – verify reports mismatch', async () => {
  const destDir = path.join(workDir, 'dest-verify');
  await mkdir(destDir);
  await writeFile(path.join(destDir, 'alpha.onnx'), bodies.get('alpha.onnx') ?? Buffer.alloc(0));
  await writeFile(path.join(destDir, 'beta.onnx'), 'truncated');

  const output = await runCli(['--manifest', manifestPath, '--dest', destDir, '--verify']);

  assert.equal(output.exitCode, 1);
  assert.match(output.stdout, /^ok {9}alpha\.onnx$/m);
  assert.match(output.stderr, /^MISMATCH {3}beta\.onnx: expected sha256 [0-9a-f]{64} \(4096 bytes\), got [0-9a-f]{64} \(9 bytes\)\./m);
  assert.equal(await readFile(path.join(destDir, 'beta.onnx'), 'utf8'), 'truncated', '--verify changes nothing');
});

test('models:install – invalid manifest names the field', async () => {
  const badManifest = path.join(workDir, 'bad.json');
  await writeFile(badManifest, JSON.stringify({ kind: 'media', description: 'd', entries: [{ file: 'x.onnx', url: 'https://h/x', sha256: 'zz', bytes: 1, license: 'l' }] }));

  const output = await runCli(['--manifest', badManifest, '--dest', path.join(workDir, 'dest-bad')]);

  assert.equal(output.exitCode, 1);
  assert.match(output.stderr, /^error: invalid manifest .*bad\.json: entries\[0\]\.sha256: should be 64 lowercase hex digits, instead got "zz"/m);
});
