// /metrics (Prometheus text) and /healthz of the agent on 127.0.0.1.
import Fastify from 'fastify';
import type { Logger } from '../src/common/log.js';
import type { Agent } from './agent.js';

export async function startMetricsServer(port: number, agent: Agent, logger: Logger): Promise<{ close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) => {
    const stats = agent.outboxStats();
    agent.metrics.outboxDepth.set(stats?.depth ?? 0);
    agent.metrics.outboxOldestAgeMs.set(stats?.oldestCreatedAtMs ? Date.now() - stats.oldestCreatedAtMs : 0);
    reply.header('content-type', agent.metrics.registry.contentType);
    return agent.metrics.registry.metrics();
  });
  app.get('/healthz', async () => {
    const stats = agent.outboxStats();
    return { status: 'ok', outboxDepth: stats?.depth ?? null, lastSeq: stats?.lastSeq ?? null };
  });
  await app.listen({ port, host: '127.0.0.1' });
  logger.info({ port }, 'agent metrics listening on 127.0.0.1');
  return { close: () => app.close() };
}
