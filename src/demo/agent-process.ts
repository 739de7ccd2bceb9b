// The demo's car: runs the agent in its own process, as on a real car, so its inference does not
// share an event loop with the central service. It talks to the demo over Node's IPC channel:
// progress (frames per camera) goes up, a stop request comes down, and the final counts go up.
import type { FrameSourceFactory } from '../../agent/agent.js';
import { assembleAgent } from '../../agent/assemble.js';
import { createCameraSource } from '../../agent/capture/camera-source.js';
import { loadAgentConfig } from '../../agent/config.js';
import { pino } from 'pino';
import { REDACTED_PATHS } from '../common/log.js';
import { waitUntil } from '../common/wait.js';

export type AgentProcessMessage =
  | { type: 'started' }
  | { type: 'progress'; cameras: Record<string, { frames: number; firstFrameAtMs: number; lastFrameAtMs: number }> }
  | { type: 'stopped'; committed: number; confirmed: number; carHits: number }
  | { type: 'failed'; message: string };

/** Interval between progress messages, ms. */
const PROGRESS_INTERVAL_MS = 250;

/** Maximum wait for the signed lists before the cameras start anyway, ms. */
const LISTS_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (!configPath || !process.send) throw new Error('usage: forked by the demo with the agent config path as the only argument');
  const send = (message: AgentProcessMessage) => process.send!(message);
  const logger = pino({ name: 'agent', level: process.env.LOG_LEVEL ?? 'warn', redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } }, pino.destination(2));

  const cameras: Record<string, { frames: number; firstFrameAtMs: number; lastFrameAtMs: number }> = {};
  const counting: FrameSourceFactory = (camera, onFrame, log) =>
    createCameraSource(
      camera,
      (frame) => {
        const entry = (cameras[frame.cameraId] ??= { frames: 0, firstFrameAtMs: frame.receivedAtMs, lastFrameAtMs: frame.receivedAtMs });
        entry.frames++;
        entry.lastFrameAtMs = frame.receivedAtMs;
        onFrame(frame);
      },
      log,
    );

  // The same services as on a car: broker connection, clock offset and the signed lists with the
  // on-car matcher.
  const config = loadAgentConfig(configPath);
  const { agent, services } = assembleAgent(config, logger, counting);
  // A car on patrol starts its cameras at once. The demo's clips are short, so it waits for the
  // lists first and its first plates are matched on the car too.
  const listsReady = await waitUntil(() => Object.values(services.lists?.versions() ?? {}).every((version) => version >= 0), LISTS_TIMEOUT_MS);
  if (!listsReady) logger.warn({ timeoutMs: LISTS_TIMEOUT_MS }, 'timed out waiting for the signed lists; the cameras start without them');
  await agent.start();
  send({ type: 'started' });
  const progress = setInterval(() => send({ type: 'progress', cameras }), PROGRESS_INTERVAL_MS);

  process.once('message', async () => {
    clearInterval(progress);
    services.stop();
    // Stopping closes the open tracks, which commits their last sightings, so count afterwards.
    await agent.stop(10_000);
    const committed = (await agent.metrics.eventsCommitted.get()).values[0]?.value ?? 0;
    const confirmed = (await agent.metrics.eventsConfirmed.get()).values[0]?.value ?? 0;
    const carHits = (await agent.metrics.carHits.get()).values.reduce((sum, value) => sum + value.value, 0);
    send({ type: 'stopped', committed, confirmed, carHits });
    process.disconnect();
  });
}

main().catch((error: Error) => {
  process.send?.({ type: 'failed', message: error.message } satisfies AgentProcessMessage);
  process.exitCode = 1;
  process.disconnect?.();
});
