// Opens the configured store: a SQLite file path, or PostgreSQL connection settings.
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { CentralStore } from './store.js';

/** A SQLite file path (":memory:" for a throw-away database), or PostgreSQL settings. */
export type DatabaseConfig = string | { postgres: PostgresStoreOptions };

export async function openStore(database: DatabaseConfig): Promise<CentralStore> {
  if (typeof database === 'string') return new SqliteStore(database);
  return PostgresStore.open(database.postgres);
}

/** Describes the database without credentials, for log lines. */
export function describeDatabase(database: DatabaseConfig): { backend: 'sqlite' | 'postgres'; schema?: string } {
  return typeof database === 'string' ? { backend: 'sqlite' } : { backend: 'postgres', schema: database.postgres.schema };
}
