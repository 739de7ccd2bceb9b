// `npm run analyze -- FILE [--json]`: runs the vision cascade on one image or video file and prints
// the plates, faces and objects found, as JSON or as a short summary.
import { extname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../common/log.js';
import { analysisToJson, type AnalysisJson } from '../vision/analysis-json.js';
import { Cascade, type Analysis } from '../vision/cascade.js';
import { VisionError } from '../vision/errors.js';
import { decodeImageFile, type RgbImage } from '../vision/image.js';
import { probeVideoSize, readVideoFrames } from '../vision/video-file-frames.js';

/** Exit code for input the user must fix: a missing file or one that is neither image nor video. */
const EXIT_BAD_INPUT = 2;
const EXIT_FAILURE = 1;

const VIDEO_EXTENSIONS = new Set(['.mp4', '.avi', '.mkv', '.mov', '.m4v', '.webm', '.flv', '.ts', '.mpg', '.mpeg', '.h264', '.264']);

interface CliOptions {
  json?: boolean;
  fps: number;
  models: string;
  embeddings?: boolean;
  threads: number;
}

interface FrameInput {
  index: number;
  timeMs: number;
  image: RgbImage;
}

function parsePositive(name: string, integer: boolean) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(`${name} should be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
    }
    return parsed;
  };
}

function buildProgram(): Command {
  return new Command('analyze')
    .description('Find plates, faces, people and vehicles in an image or video file.')
    .argument('<file>', 'image (JPEG, PNG, WebP, ...) or video file (anything ffmpeg reads)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--fps <rate>', 'frames per second to analyse in a video', parsePositive('--fps', false), 2)
    .option('--models <dir>', 'folder with the ONNX models', process.env.VA_MODEL_STORE ?? 'var/models')
    .option('--embeddings', 'include the 128-d face embeddings in the JSON output')
    .option('--threads <count>', 'ONNX Runtime threads per operator', parsePositive('--threads', true), 1);
}

/** Yields the single frame of an image, or frames of a video sampled at `fps`. */
async function* readFrames(filePath: string, fps: number): AsyncGenerator<FrameInput> {
  if (!VIDEO_EXTENSIONS.has(extname(filePath).toLowerCase())) {
    try {
      yield { index: 0, timeMs: 0, image: await decodeImageFile(filePath) };
      return;
    } catch (error) {
      if (!(error instanceof VisionError && error.code === 'IMAGE_INVALID')) throw error;
      await probeVideoSize(filePath).catch(() => {
        throw new VisionError('IMAGE_INVALID', `${filePath} is neither an image nor a video that ffmpeg can read`);
      });
    }
  }
  yield* readVideoFrames(filePath, fps);
}

function summarise(index: number, timeMs: number, analysis: Analysis): string {
  const objectCounts = new Map<string, number>();
  for (const object of analysis.objects) objectCounts.set(object.label, (objectCounts.get(object.label) ?? 0) + 1);
  const objects = [...objectCounts].map(([label, count]) => `${count} ${label}`).join(', ') || 'none';
  const plates = analysis.plates.map((p) => `${p.text} (${p.format}, ${p.color}, ${p.confidence.toFixed(2)})`).join(', ') || 'none';
  const faces = analysis.faces.map((f) => `q${f.quality.toFixed(2)}`).join(', ');
  return `frame ${index} at ${Math.round(timeMs)} ms: plates ${plates}; faces ${analysis.faces.length}${faces ? ` (${faces})` : ''}; objects ${objects}`;
}

async function run(filePath: string, options: CliOptions): Promise<void> {
  // The first frame is decoded before the models load, so bad input fails fast with exit code 2.
  const frameIterator = readFrames(filePath, options.fps);
  let next = await frameIterator.next();
  if (next.done) {
    // A truncated image that ffmpeg opens but cannot decode, or a video shorter than one frame period.
    throw new VisionError('IMAGE_INVALID', `${filePath} contains no decodable frame; check that the file is complete`);
  }
  const cascade = await Cascade.load(options.models, { threads: options.threads, logger: createLogger('analyze', { level: 'silent' }) });
  const embed = options.embeddings === true;
  const frames: Array<{ index: number; timeMs: number } & AnalysisJson> = [];
  try {
    for (; !next.done; next = await frameIterator.next()) {
      const { index, timeMs, image } = next.value;
      const analysis = await cascade.analyze(image, { embed });
      if (options.json) frames.push({ index, timeMs: Math.round(timeMs), ...analysisToJson(analysis, embed) });
      else process.stdout.write(`${summarise(index, timeMs, analysis)}\n`);
    }
  } finally {
    await frameIterator.return(undefined);
    await cascade.close();
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ file: filePath, frames })}\n`);
}

function exitCodeFor(error: unknown): number {
  if (!(error instanceof VisionError)) return EXIT_FAILURE;
  const badInput = error.code === 'FILE_NOT_FOUND' || error.code === 'IMAGE_INVALID' || error.code === 'VIDEO_INVALID';
  return badInput ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT));
  program.parse(argv);
  const [filePath] = program.args as [string];
  try {
    await run(filePath, program.opts<CliOptions>());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`analyze: ${message.split('\n')[0]}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

await main(process.argv);
