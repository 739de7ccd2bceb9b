// Starts the command centre for a running central service: creates the first administrator from
// the environment when asked to, connects the page to the service, store and lists, and listens.
import type { Logger } from '../../common/log.js';
import { ensureAdministratorFromEnv } from '../auth/initial-admin.js';
import type { ListManager } from '../lists/list-manager.js';
import type { CentralService } from '../service.js';
import type { CentralStore } from '../store/store.js';
import type { WebConfig } from './config.js';
import { ListManagerAdmin } from './list-admin.js';
import { startCommandCentreServer, type CommandCentreServer } from './server.js';

export interface CommandCentreServices {
  store: CentralStore;
  service: CentralService;
  lists: ListManager;
  logger: Logger;
  clock?: () => number;
  env?: NodeJS.ProcessEnv;
}

export async function startCommandCentreForService(config: WebConfig, services: CommandCentreServices): Promise<CommandCentreServer> {
  await ensureAdministratorFromEnv(services.store, services.env ?? process.env, services.logger, services.clock);
  return startCommandCentreServer({
    host: config.host,
    port: config.port,
    secureCookies: config.secureCookies,
    carOnlineWindowMs: config.carOnlineWindowMs,
    logger: services.logger,
    ...(services.clock === undefined ? {} : { clock: services.clock }),
    ports: { store: services.store, decisions: services.service, hits: services.service, lists: new ListManagerAdmin(services.lists) },
  });
}
