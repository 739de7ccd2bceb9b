// The central service's HTTP endpoints on 127.0.0.1: /metrics for Prometheus and /healthz.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/log.js';

export interface HealthState {
  brokerConnected: boolean;
  databaseOpen: boolean;
}

export interface HttpServer {
  /** Base URL, e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

/** Starts the endpoints on 127.0.0.1:port (0 picks a free port). */
export async function startHttpServer(options: { port: number; registry: Registry; health: () => HealthState; logger: Logger }): Promise<HttpServer> {
  const app: FastifyInstance = Fastify({ logger: false });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });

  app.get('/healthz', async (_request, reply) => {
    const health = options.health();
    const ok = health.brokerConnected && health.databaseOpen;
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'degraded', ...health };
  });

  const url = await app.listen({ host: '127.0.0.1', port: options.port });
  options.logger.info({ address: url }, 'http endpoints listening');
  return { url, close: () => app.close() };
}
