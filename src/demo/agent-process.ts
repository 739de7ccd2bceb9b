// The demo's car: runs the agent in its own process, as on a real car, so its inference does not
// share an event loop with the central service. It talks to the demo over Node's IPC channel:
// progress (frames per camera) goes up, a stop request comes down, and the final counts go up.
import { Agent, type FrameSourceFactory } from '../../agent/agent.js';
import { createCameraSource } from '../../agent/capture/camera-source.js';
import { loadAgentConfig } from '../../agent/config.js';
import { pino } from 'pino';
import { REDACTED_PATHS } from '../common/log.js';

export type AgentProcessMessage =
  | { type: 'started' }
  | { type: 'progress'; cameras: Record<string, { frames: number; firstFrameAtMs: number; lastFrameAtMs: number }> }
  | { type: 'stopped'; acked: number; committed: number }
  | { type: 'failed'; message: string };

/** Interval between progress messages, ms. */
const PROGRESS_INTERVAL_MS = 250;

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

  const agent = new Agent({ config: loadAgentConfig(configPath), logger, createFrameSource: counting });
  await agent.start();
  send({ type: 'started' });
  const progress = setInterval(() => send({ type: 'progress', cameras }), PROGRESS_INTERVAL_MS);

  process.once('message', async () => {
    clearInterval(progress);
    const committed = (await agent.metrics.eventsCommitted.get()).values[0]?.value ?? 0;
    await agent.stop(10_000);
    const acked = (await agent.metrics.eventsAcked.get()).values[0]?.value ?? 0;
    send({ type: 'stopped', acked, committed });
    process.disconnect();
  });
}

main().catch((error: Error) => {
  process.send?.({ type: 'failed', message: error.message } satisfies AgentProcessMessage);
  process.exitCode = 1;
  process.disconnect?.();
});
