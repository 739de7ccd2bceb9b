// `npm run agent -- --config FILE`: the on-car agent as a long-running process. Stops cleanly on
// SIGTERM or SIGINT: cameras first, then the frame in progress, then the uplink and the outbox.
import { Command } from 'commander';
import { createLogger } from '../src/common/log.js';
import { VisionError } from '../src/vision/errors.js';
import { Agent } from './agent.js';
import { createCameraSource } from './capture/camera-source.js';
import { ConfigError, loadAgentConfig } from './config.js';
import { startMetricsServer } from './metrics-server.js';

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run agent --')
    .description('Run the on-car agent: cameras, analysis, SQLite outbox, MQTT uplink')
    .requiredOption('--config <file>', 'agent configuration (JSON)')
    .parse();
  const { config: configPath } = program.opts<{ config: string }>();

  const logger = createLogger('agent');
  const config = loadAgentConfig(configPath);
  const agent = new Agent({ config, logger, createFrameSource: createCameraSource });
  await agent.start();
  const metricsServer = config.metricsPort > 0 ? await startMetricsServer(config.metricsPort, agent, logger) : null;

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'agent stopping');
    await metricsServer?.close();
    await agent.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: Error) => {
  // Config and model problems are the operator's to fix, so they print as one plain message.
  if (error instanceof ConfigError || error instanceof VisionError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`agent failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
