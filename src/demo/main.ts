// `npm run demo`: the end-to-end demo on the bundled configuration. Progress and hits go to stdout;
// structured logs go to stderr at LOG_LEVEL (warn by default, so the hits stay readable).
import path from 'node:path';
import { pino } from 'pino';
import { Command } from 'commander';
import { REDACTED_PATHS } from '../common/log.js';
import { projectRoot } from '../assets/paths.js';
import { loadDemoConfig } from './config.js';
import { compareHits, formatHit, formatSummary } from './report.js';
import { runDemo } from './run.js';

interface CliOptions {
  config: string;
  once: boolean;
  broker?: string;
  rtsp: boolean;
}

async function main(): Promise<number> {
  const program = new Command()
    .name('npm run demo --')
    .description('Run the patrol-car demo: nine cameras from the bundled clips, the agent, the central service, hits with latency')
    .option('--config <file>', 'demo configuration', path.join(projectRoot(), 'config', 'demo.json'))
    .option('--once', 'stop after one pass of the clips, print a summary, exit 0 only if exactly the expected hits occurred', false)
    .option('--broker <url>', 'MQTT 5 broker to use, e.g. mqtt://127.0.0.1:1883 (default: an embedded broker on 127.0.0.1)')
    .option('--no-rtsp', 'read the clip files directly instead of serving them as RTSP cameras')
    .parse();
  const options = program.opts<CliOptions>();

  const logger = pino(
    { name: 'demo', level: process.env.LOG_LEVEL ?? 'warn', redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } },
    pino.destination(2),
  );
  const config = loadDemoConfig(options.config);
  const formatCount = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
  console.log(`演示 Demo: car ${config.carId}, ${formatCount(config.cameras.length, 'camera')}, ${formatCount(config.hotlist.length, 'hotlist plate')}, ${formatCount(config.watchlist.length, 'watchlist subject')}`);

  let stop: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', () => stop());
  process.once('SIGTERM', () => stop());

  const report = await runDemo({
    config,
    workDir: projectRoot(),
    once: options.once,
    brokerUrl: options.broker,
    rtsp: options.rtsp,
    logger,
    onHit: (hit) => console.log(formatHit(hit)),
    onProgress: (line) => console.log(`· ${line}`),
    stopSignal,
  });
  for (const line of formatSummary(report)) console.log(line);
  return options.once && !compareHits(report).ok ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`demo failed: ${error.message}`);
    process.exit(1);
  },
);
