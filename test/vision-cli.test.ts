// The analyze command run as a child process: JSON for an image and a video, the human summary,
// and exit code 2 with a one-line error for bad input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { fixturesDir, modelsDir } from './support/assets.js';

const execFileAsync = promisify(execFile);
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runAnalyze(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', 'src/cli/analyze.ts', ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('analyze CLI – missing file exits 2', async () => {
  const result = await runAnalyze(['/nonexistent/photo.jpg', '--json', '--models', '/nonexistent/models']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^analyze: image file not found: \/nonexistent\/photo\.jpg\n$/);
});

test('analyze CLI – non-image file exits 2', async () => {
  const result = await runAnalyze(['package.json', '--json']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^analyze: package\.json is neither an image nor a video that ffmpeg can read\n$/);
});

test('analyze CLI – truncated JPEG exits 2', async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  // The first third of a real photo: sharp rejects it and ffmpeg decodes no frame from it.
  const dir = mkdtempSync(path.join(tmpdir(), 'analyze-truncated-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const photo = readFileSync(path.join(fixtures, 'plates', 'single_yellow.jpg'));
  const truncated = path.join(dir, 'truncated.jpg');
  writeFileSync(truncated, photo.subarray(0, Math.floor(photo.length / 3)));

  const result = await runAnalyze([truncated, '--json']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^analyze: .*truncated\.jpg/);
});

test('analyze CLI – missing models name the installer', async (t) => {
  const fixtures = fixturesDir(t);
  if (!fixtures) return;
  const result = await runAnalyze([path.join(fixtures, 'plates', 'xue.jpg'), '--models', '/nonexistent/models']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /model file not found: .*yolox_nano\.onnx; run `npm run models:install`/);
});

test('analyze CLI – image gives one JSON frame', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const file = path.join(fixtures, 'plates', 'xue.jpg');
  const result = await runAnalyze([file, '--json'], { VA_MODEL_STORE: models });
  assert.equal(result.code, 0, result.stderr);
  const output = JSON.parse(result.stdout) as { file: string; frames: Array<Record<string, unknown[]> & { index: number; timeMs: number }> };
  assert.equal(output.file, file);
  assert.equal(output.frames.length, 1);
  const frame = output.frames[0]!;
  assert.deepEqual([frame.index, frame.timeMs], [0, 0]);
  assert.deepEqual((frame.plates as Array<{ text: string }>).map((p) => p.text), ['琼A6716学']);
  assert.ok((frame.objects as Array<{ label: string }>).some((o) => o.label === 'car'));
});

test('analyze CLI – video gives frames at --fps', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const file = path.join(fixtures, 'video', 'stage-two-speakers.mp4');
  const result = await runAnalyze([file, '--json', '--fps', '0.5', '--embeddings', '--models', models]);
  assert.equal(result.code, 0, result.stderr);
  const output = JSON.parse(result.stdout) as {
    frames: Array<{ index: number; timeMs: number; faces: Array<{ embedding?: number[] }> }>;
  };
  assert.deepEqual(output.frames.map((f) => f.timeMs), [0, 2000, 4000, 6000, 8000]);
  assert.deepEqual(output.frames.map((f) => f.index), [0, 1, 2, 3, 4]);
  const faces = output.frames.flatMap((f) => f.faces);
  assert.ok(faces.length >= 3, `only ${faces.length} faces in 5 frames`);
  for (const face of faces) assert.equal(face.embedding?.length, 128);
});

test('analyze CLI – summary without --json', async (t) => {
  const models = modelsDir(t);
  const fixtures = fixturesDir(t);
  if (!models || !fixtures) return;
  const result = await runAnalyze([path.join(fixtures, 'plates', 'single_yellow.jpg'), '--models', models]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^frame 0 at 0 ms: plates 皖K66666 \(civil, yellow, [01]\.\d\d\); faces 0; objects .*car/);
});
