// Creates the first administrator, from the environment at start-up or from the one-time CLI.
// There is no built-in account and no default password, so until one of them runs, no user can log in.
import type { Logger } from '../../common/log.js';
import type { CentralStore } from '../store/store.js';
import { hashPassword } from './password.js';

export const ADMIN_USERNAME_ENV = 'PATROL_ADMIN_USERNAME';
export const ADMIN_PASSWORD_ENV = 'PATROL_ADMIN_PASSWORD';

const USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export class InitialAdminError extends Error {
  override readonly name = 'InitialAdminError';
  constructor(
    readonly code: 'ADMIN_EXISTS' | 'ADMIN_USERNAME_INVALID' | 'ADMIN_ENV_INCOMPLETE',
    message: string,
  ) {
    super(message);
  }
}

type UserMethods = Pick<CentralStore, 'listUsers' | 'createUser' | 'appendAudit'>;

/**
 * Creates an administrator when the store has none, and rejects with ADMIN_EXISTS otherwise. The
 * command therefore cannot add a second administrator without the existing ones knowing.
 */
export async function createInitialAdministrator(store: UserMethods, username: string, password: string, options: { clock?: () => number; origin: string }): Promise<void> {
  if (!USERNAME_PATTERN.test(username)) {
    throw new InitialAdminError('ADMIN_USERNAME_INVALID', `administrator name should be 1-64 letters, digits, ., _ or -, instead got ${JSON.stringify(username.slice(0, 80))}`);
  }
  const users = await store.listUsers();
  if (users.some((user) => user.role === 'administrator')) {
    throw new InitialAdminError('ADMIN_EXISTS', 'an administrator already exists; log in as one to create more users');
  }
  const passwordHash = await hashPassword(password);
  const nowMs = (options.clock ?? Date.now)();
  await store.createUser({ username, role: 'administrator', passwordHash, disabled: false, createdAtMs: nowMs });
  await store.appendAudit({ atMs: nowMs, actor: 'system', action: 'user.create', target: username, reason: `initial administrator from ${options.origin}`, details: { role: 'administrator' } });
}

/**
 * Creates the administrator named in PATROL_ADMIN_USERNAME with PATROL_ADMIN_PASSWORD when both are
 * set and the store has no administrator yet. Returns whether one was created.
 */
export async function ensureAdministratorFromEnv(store: UserMethods, env: NodeJS.ProcessEnv, logger: Logger, clock?: () => number): Promise<boolean> {
  const username = env[ADMIN_USERNAME_ENV];
  const password = env[ADMIN_PASSWORD_ENV];
  if (username === undefined && password === undefined) return false;
  if (username === undefined || password === undefined) {
    throw new InitialAdminError('ADMIN_ENV_INCOMPLETE', `set both ${ADMIN_USERNAME_ENV} and ${ADMIN_PASSWORD_ENV}, or neither`);
  }
  try {
    await createInitialAdministrator(store, username, password, { clock, origin: 'the environment' });
  } catch (error) {
    if (error instanceof InitialAdminError && error.code === 'ADMIN_EXISTS') {
      logger.info({ env: ADMIN_USERNAME_ENV }, 'an administrator already exists; initial administrator from the environment ignored');
      return false;
    }
    throw error;
  }
  logger.info({ username }, 'initial administrator created from the environment');
  return true;
}
