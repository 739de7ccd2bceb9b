// The command centre's own HTTP server, for a service that serves the page on a separate port
// from /metrics. Everything it serves comes from registerCommandCentre.
import Fastify from 'fastify';
import type { Logger } from '../../common/log.js';
import { registerCommandCentre, type CommandCentre, type CommandCentreDeps } from './register.js';

export interface CommandCentreServerOptions extends CommandCentreDeps {
  /** Address to listen on; 127.0.0.1 unless a reverse proxy on another host forwards to it. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
}

export interface CommandCentreServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  centre: CommandCentre;
  close(): Promise<void>;
}

/** Starts a fastify server with only the command centre on it. */
export async function startCommandCentreServer(options: CommandCentreServerOptions): Promise<CommandCentreServer> {
  const { host, port, ...deps } = options;
  // Large enough for a hotlist CSV import; the enrolment route raises its own limit.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  try {
    const centre = await registerCommandCentre(app, deps);
    const url = await app.listen({ host, port });
    options.logger.info({ address: url }, 'command centre listening');
    return { url, centre, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}
