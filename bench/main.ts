// `npm run bench`: plate accuracy, per-model latency, the ffmpeg stage and the demo's frame-to-hit
// latency by stage. Needs the models and fixtures (VA_MODELS_DIR, VA_FIXTURES_DIR) and ffmpeg.
import { Command } from 'commander';
import { defaultModelStore } from '../src/assets/paths.js';
import { benchDemoLatency } from './demo-latency.js';
import { benchVision } from './vision.js';

async function main(): Promise<void> {
  const options = new Command()
    .name('npm run bench --')
    .option('--broker <url>', 'MQTT 5 broker for the demo section (default: embedded broker)')
    .option('--skip-demo', 'leave out the demo latency section', false)
    .parse()
    .opts<{ broker?: string; skipDemo: boolean }>();
  const fixturesDir = process.env.VA_FIXTURES_DIR ?? process.env.VA_MEDIA_DIR;
  if (!fixturesDir) throw new Error('VA_FIXTURES_DIR is not set; point it at the folder with plates/labels.json and faces/');
  const modelsDir = process.env.VA_MODELS_DIR ?? defaultModelStore();
  const print = (line: string) => console.log(line);

  print(`# patrol-vision bench  ${new Date().toISOString()}  node ${process.version}`);
  await benchVision(modelsDir, fixturesDir, print);
  if (!options.skipDemo) await benchDemoLatency(options.broker, print);
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
