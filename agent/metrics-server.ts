// /metrics (Prometheus text) and /healthz of the agent on 127.0.0.1. /healthz returns 200 while the
// agent works, degraded parts included, and 503 when the pipeline has stalled.
import Fastify from 'fastify';
import type { Logger } from '../src/common/log.js';
import type { AgentMetrics } from './metrics.js';
import type { HealthReport } from './ops/health.js';
import type { OutboxStats } from './uplink/outbox.js';

export interface MetricsSource {
  metrics: AgentMetrics;
  outboxStats(): OutboxStats | null;
  health(): HealthReport;
}

export async function startMetricsServer(port: number, source: MetricsSource, logger: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) => {
    refreshOutboxGauges(source.metrics, source.outboxStats());
    reply.header('content-type', source.metrics.registry.contentType);
    return source.metrics.registry.metrics();
  });
  app.get('/healthz', async (_request, reply) => {
    const report = source.health();
    reply.code(report.status === 'unhealthy' ? 503 : 200);
    return report;
  });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  logger.info({ port: boundPort }, 'agent metrics listening on 127.0.0.1');
  return { url: `http://127.0.0.1:${boundPort}`, close: () => app.close() };
}

function refreshOutboxGauges(metrics: AgentMetrics, stats: OutboxStats | null): void {
  metrics.outboxDepth.set(stats?.depth ?? 0);
  metrics.outboxOldestAgeMs.set(stats?.oldestCreatedAtMs ? Date.now() - stats.oldestCreatedAtMs : 0);
  metrics.outboxBytes.set({ part: 'all' }, stats?.payloadBytes ?? 0);
  metrics.outboxBytes.set({ part: 'evidence' }, stats?.evidenceBytes ?? 0);
  metrics.outboxAwaitingReceipt.set(stats?.awaitingReceipt ?? 0);
  metrics.outboxQuarantined.set(stats?.quarantined ?? 0);
}
