// Command line entry of the central service: `npm run central -- --config FILE`. Starts the
// service from the config file and shuts it down on SIGTERM or SIGINT.
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { loadCentralConfig } from './config.js';
import { startCentral, type RunningCentral } from './start.js';

export { startCentral, type CentralDeps, type RunningCentral } from './start.js';
export { loadCentralConfig, parseCentralConfig, type CentralConfig } from './config.js';

/** Maximum time in ms that shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('central')
    .description('Central service: ingests car events, matches the plate hotlist and the face watchlist, raises hits')
    .requiredOption('--config <file>', 'JSON config file')
    .parse(argv);
  const { config: configPath } = program.opts<{ config: string }>();

  const logger = createLogger('central');
  const config = loadCentralConfig(configPath);

  // The handlers go in before the service starts: a SIGTERM during start-up (systemd stopping a
  // unit that is still starting) waits for the start to finish and then stops cleanly.
  let running: RunningCentral | null = null;
  let stopRequested: NodeJS.Signals | null = null;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    if (running === null) {
      stopRequested = signal;
      logger.info({ signal }, 'stop requested during start-up; stopping once started');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running.stop().then(
      () => {
        logger.info('central stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  running = await startCentral(config, { logger });
  if (stopRequested !== null) shutdown(stopRequested);
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  main(process.argv).catch((error: unknown) => {
    const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
    if (error instanceof Error && typeof code === 'string') {
      // A failure the operator can fix (config, secret, store, certificate): one line and exit 2, as the agent does.
      process.stderr.write(`central: ${error.message} [${code}]\n`);
      process.exit(2);
    }
    // Anything else is a bug or an unforeseen failure: keep the stack for the report.
    process.stderr.write(`central failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
