// Opens throw-away central stores for tests: a SQLite file in a temp folder, or a PostgreSQL schema
// with a random name on the server at VA_TEST_POSTGRES_URL (default: the local server's test database).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/central/store/postgres-store.js';
import { SqliteStore } from '../../src/central/store/sqlite-store.js';
import type { CentralStore, StoreBackend } from '../../src/central/store/store.js';

export const POSTGRES_URL = process.env.VA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  store: CentralStore;
  /** Opens the same database again, as a second instance or after a restart would. */
  reopen(): Promise<CentralStore>;
  /** Closes every store opened here and removes the database. */
  cleanup(): Promise<void>;
  /** SQLite file path or PostgreSQL schema name. */
  location: string;
}

export function randomSchemaName(prefix = 'test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function openTestStore(backend: StoreBackend): Promise<TestStore> {
  const opened: CentralStore[] = [];
  const track = (store: CentralStore): CentralStore => {
    opened.push(store);
    return store;
  };

  if (backend === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'central-store-'));
    const file = path.join(dir, 'central.sqlite');
    return {
      store: track(new SqliteStore(file)),
      reopen: async () => track(new SqliteStore(file)),
      location: file,
      cleanup: async () => {
        for (const store of opened) await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  const schema = randomSchemaName();
  const options = { url: POSTGRES_URL, schema, poolSize: 4 };
  return {
    store: track(await PostgresStore.open(options)),
    reopen: async () => track(await PostgresStore.open(options)),
    location: schema,
    cleanup: async () => {
      for (const store of opened) await store.close();
      await dropSchema(schema);
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one SQL statement in a schema of the test server, for tests that inspect or tamper with tables. */
export async function postgresQuery(schema: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}
