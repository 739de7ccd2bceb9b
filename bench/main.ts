// `npm run bench`: every benchmark section in turn, or the ones named with --only. Needs the
// models and fixtures (VA_MODELS_DIR, VA_FIXTURES_DIR), ffmpeg, Mosquitto on 127.0.0.1:1883 and,
// for the PostgreSQL figures, the server named by VA_BENCH_POSTGRES_URL.
import { Command } from 'commander';
import { defaultModelStore } from '../src/assets/paths.js';
import { runAgentBench } from './agent.js';
import { runFaultBench } from './agent-faults.js';
import { runCentralBench } from './central.js';
import { benchDemoLatency } from './demo-latency.js';
import { benchVision } from './vision.js';
import { benchHitToPage } from './web.js';

const SECTIONS = ['vision', 'demo', 'agent', 'faults', 'central', 'web'] as const;
type Section = (typeof SECTIONS)[number];

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function main(): Promise<void> {
  const options = new Command()
    .name('npm run bench --')
    .option('--only <sections>', `comma-separated sections to run, of: ${SECTIONS.join(', ')}`, SECTIONS.join(','))
    .option('--broker <url>', 'MQTT 5 broker for the demo section (default: embedded broker)')
    .parse()
    .opts<{ only: string; broker?: string }>();
  const sections = parseSections(options.only);
  const fixturesDir = process.env.VA_FIXTURES_DIR ?? process.env.VA_MEDIA_DIR;
  if (!fixturesDir) throw new Error('VA_FIXTURES_DIR is not set; point it at the folder with plates/labels.json and faces/');
  const modelsDir = process.env.VA_MODELS_DIR ?? defaultModelStore();
  const postgresUrl = process.env.VA_BENCH_POSTGRES_URL ?? DEFAULT_POSTGRES_URL;
  const print = (line: string) => console.log(line);

  print(`# patrol-vision bench  ${new Date().toISOString()}  node ${process.version}`);
  if (sections.has('vision')) {
    print('## vision');
    await benchVision(modelsDir, fixturesDir, print);
  }
  if (sections.has('demo')) {
    print('## demo, frame to hit');
    await benchDemoLatency(options.broker, print);
  }
  if (sections.has('agent')) {
    // Runs after the demo section, which makes the clips the cameras serve.
    print('## agent, 1, 3 and 9 RTSP cameras');
    await runAgentBench({ print, modelsDir, fixturesDir, cameraCounts: [1, 3, 9], durationSec: 20 });
  }
  if (sections.has('faults')) await runFaultBench({ modelsDir, fixturesDir, print });
  if (sections.has('central')) await runCentralBench({ print });
  if (sections.has('web')) {
    print('## command centre, hit to page (200 background events/s)');
    await benchHitToPage(print, { hits: 50, hitIntervalMs: 20, loadEventsPerSec: 200, postgresUrl });
  }
}

function parseSections(list: string): Set<Section> {
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown bench section(s) ${unknown.join(', ')}; expected some of ${SECTIONS.join(', ')}`);
  return new Set(names as Section[]);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench failed: ${error.message}`);
    process.exit(1);
  },
);
