// `npm run agent -- --config FILE`: the on-car agent as a long-running process. Stops cleanly on
// SIGTERM or SIGINT: cameras first, then the frames in progress, then the uplink and the outbox.
import { Command } from 'commander';
import { createLogger } from '../src/common/log.js';
import { VisionError } from '../src/vision/errors.js';
import type { Agent } from './agent.js';
import { assembleAgent } from './assemble.js';
import { createCameraSource } from './capture/camera-source.js';
import { ConfigError, loadAgentConfig } from './config.js';
import { ListError } from './lists/list-errors.js';
import { startMetricsServer } from './metrics-server.js';
import type { AgentMetrics } from './metrics.js';
import type { CarServices } from './ops/car-services.js';
import { assessHealth, type HealthReport } from './ops/health.js';
import { SecretError } from './ops/secrets.js';
import { startSystemdWatchdog } from './ops/watchdog.js';

/** Time the outbox gets to drain on shutdown; systemd's TimeoutStopSec must leave room for it. */
const SHUTDOWN_DRAIN_MS = 5000;

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run agent --')
    .description('Run the on-car agent: cameras, analysis, SQLite outbox, MQTT uplink')
    .requiredOption('--config <file>', 'agent configuration (JSON)')
    .parse();
  const { config: configPath } = program.opts<{ config: string }>();

  const logger = createLogger('agent');
  const config = loadAgentConfig(configPath);
  const { agent, services, metrics } = assembleAgent(config, logger, createCameraSource);
  // The handlers go in before the agent starts (loading the models takes seconds): a SIGTERM during
  // start-up waits for the start to finish and then stops cleanly.
  let started = false;
  let stopRequested: string | null = null;
  let stopping = false;
  let stopExtras: () => Promise<void> = async () => undefined;
  const shutdown = async (signal: string): Promise<void> => {
    if (!started) {
      stopRequested = signal;
      logger.info({ signal }, 'stop requested during start-up; stopping once started');
      return;
    }
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'agent stopping');
    await stopExtras();
    services.stop();
    await agent.stop(SHUTDOWN_DRAIN_MS);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await agent.start();
  const health = (): HealthReport => agentHealth(agent, services, metrics, config.broker.receiptTimeoutSec * 1000);
  const metricsServer = config.metricsPort > 0 ? await startMetricsServer(config.metricsPort, { metrics, outboxStats: () => agent.outboxStats(), health }, logger) : null;
  const watchdog = startSystemdWatchdog({ logger, healthy: () => health().status !== 'unhealthy' });
  stopExtras = async () => {
    watchdog?.stop();
    await metricsServer?.close();
  };
  started = true;
  if (stopRequested !== null) await shutdown(stopRequested);
}

function agentHealth(agent: Agent, services: CarServices, metrics: AgentMetrics, receiptTimeoutMs: number): HealthReport {
  return assessHealth({
    receiptTimeoutMs,
    nowMs: Date.now(),
    uplinkConnected: services.client.connected,
    outbox: agent.outboxStats(),
    lastFrameAtMs: metrics.lastFrameFromAnyCameraAtMs(),
    lastAnalysedAtMs: metrics.lastAnalysedAtMs,
    cameras: metrics.cameraStates(),
    clockOffsetMs: services.clockOffsetMs(),
    gpsFix: services.gps === null ? null : services.gps.position() !== null,
    listVersions: services.lists?.versions() ?? null,
  });
}

/** Prints errors the operator must fix as one plain line, and anything else with its stack. */
function reportStartFailure(error: Error): never {
  if (error instanceof ConfigError || error instanceof VisionError || error instanceof SecretError || error instanceof ListError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(`agent failed: ${error.stack ?? error.message}`);
  process.exit(1);
}

main().catch((error: Error) => reportStartFailure(error));
