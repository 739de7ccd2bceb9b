// CentralStore on PostgreSQL through a pg connection pool, for fleets and for several service
// instances sharing one database. Migrations run under an advisory lock, so instances may start together.
import pg from 'pg';
import type { PatrolEvent } from '../../protocol/event.js';
import type { CarStatusMessage } from '../../protocol/status.js';
import { redactCredentials } from '../../common/log.js';
import { buildHit } from '../hit.js';
import { POSTGRES_MIGRATIONS } from './migrations/postgres.js';
import {
  EVENT_INSERT_COLUMNS,
  EVENT_SUMMARY_COLUMNS,
  HIT_INSERT_COLUMNS,
  auditFilter,
  bytesToEmbeddings,
  embeddingsToBytes,
  eventFilter,
  eventInsertValues,
  hitFilter,
  hitInsertValues,
  rowToAudit,
  rowToCarStatus,
  rowToEventSummary,
  rowToHit,
  rowToUser,
  rowToWebSession,
  type AuditRow,
  type CarRow,
  type EventSummaryRow,
  rowToHotlistEntry,
  rowToSubject,
  type HitRow,
  type HotlistRow,
  type SubjectRow,
  type UserRow,
  type WebSessionRow,
} from './rows.js';
import { plateTextOf, purgeInBatches, repeatOf } from './store-common.js';
import {
  StoreError,
  type AuditEntry,
  type AuditEntryInput,
  type AuditQuery,
  type CarStatus,
  type CentralStore,
  type ChangeMeta,
  type DecideHitInput,
  type EventQuery,
  type EventSummary,
  type FaceList,
  type FaceNegative,
  type HitQuery,
  type HotlistEntryInput,
  type ListChange,
  type ListName,
  type NewUser,
  type PurgeCounts,
  type RecordEventInput,
  type RecordEventOutcome,
  type RetentionCutoffs,
  type StoredHit,
  type StoredHotlistEntry,
  type StoredSubject,
  type StoredWebSession,
  type SubjectInput,
  type User,
  type UserUpdate,
  type WebSessionCutoffs,
  type WebSessionLastSeen,
} from './store.js';

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Schema holding the tables; created when missing. */
  schema: string;
  /** Maximum pooled connections. */
  poolSize: number;
}

/** Advisory lock key that serialises migrations between instances (any constant works; this spells "PATROL"). */
const MIGRATION_LOCK_KEY = 0x504154524f4c;
const INT8_OID = 20;

const pgPlaceholder = (position: number): string => `$${position}`;
const marks = (count: number, first = 1): string => Array.from({ length: count }, (_, i) => `$${first + i}`).join(', ');

const INSERT_EVENT_SQL = `
  WITH inserted AS (
    INSERT INTO events (${EVENT_INSERT_COLUMNS.join(', ')}) VALUES (${marks(EVENT_INSERT_COLUMNS.length)})
    ON CONFLICT (car_id, seq) DO NOTHING RETURNING car_id
  ), car AS (
    INSERT INTO cars (car_id, last_event_at_ms, clock_offset_ms)
      SELECT car_id, $${EVENT_INSERT_COLUMNS.length + 1}::double precision, $${EVENT_INSERT_COLUMNS.length + 2}::double precision FROM inserted
    ON CONFLICT (car_id) DO UPDATE SET last_event_at_ms = GREATEST(COALESCE(cars.last_event_at_ms, 0), excluded.last_event_at_ms),
                                       clock_offset_ms = COALESCE(excluded.clock_offset_ms, cars.clock_offset_ms)
    RETURNING 1
  )
  SELECT (SELECT COUNT(*) FROM inserted)::int AS inserted, (SELECT COUNT(*) FROM car)::int AS cars`;

type Queryable = pg.Pool | pg.PoolClient;

export class PostgresStore implements CentralStore {
  readonly backend = 'postgres' as const;
  private open = true;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  /** Connects, creates the schema when missing and migrates it. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new StoreError('STORE_OPEN_FAILED', `schema should be 1-63 lower-case letters, digits or _, starting with a letter or _, instead got ${JSON.stringify(options.schema)}`);
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      options: `-c search_path=${options.schema}`,
      types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // An idle client that loses its connection emits 'error' on the pool; without a listener that would end the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, options.schema);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
      if (error instanceof StoreError) throw error;
      throw new StoreError('STORE_OPEN_FAILED', `could not open PostgreSQL database ${redactCredentials(options.url)}: ${(error as Error).message}; check the URL and that the server runs`, { cause: error });
    }
    return store;
  }

  get isOpen(): boolean {
    return this.open;
  }

  async schemaVersion(): Promise<number> {
    const result = await this.pool.query<{ version: number }>('SELECT COALESCE(MAX(version), 0)::int AS version FROM schema_migrations');
    return result.rows[0]!.version;
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.pool.end();
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const current = (await client.query<{ version: number }>('SELECT COALESCE(MAX(version), 0)::int AS version FROM schema_migrations')).rows[0]!.version;
      if (current > POSTGRES_MIGRATIONS.length) {
        throw new StoreError(
          'STORE_SCHEMA_TOO_NEW',
          `schema ${this.schema} has version ${current}, newer than the ${POSTGRES_MIGRATIONS.length} this build knows; run a newer build or another schema`,
        );
      }
      for (let step = current; step < POSTGRES_MIGRATIONS.length; step++) {
        await client.query('BEGIN');
        await client.query(POSTGRES_MIGRATIONS[step]!);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [step + 1]);
        await client.query('COMMIT');
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      client.release();
    }
  }

  /** Runs fn in one transaction on one pooled connection. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async recordEvent(input: RecordEventInput): Promise<RecordEventOutcome> {
    const { event, receivedAtMs, candidate } = input;
    const values = [...eventInsertValues(event, receivedAtMs, input.clockOffsetMs, plateTextOf(event)), receivedAtMs, event.clockOffsetMs];
    // Most events match nothing: then one statement stores the event and touches the car, atomically.
    if (candidate === null) {
      const result = await this.pool.query<{ inserted: number }>(INSERT_EVENT_SQL, values);
      return result.rows[0]!.inserted === 0 ? { duplicate: true } : { duplicate: false, hit: null, repeat: null };
    }

    return this.transaction(async (client): Promise<RecordEventOutcome> => {
      const inserted = (await client.query<{ inserted: number }>(INSERT_EVENT_SQL, values)).rows[0]!.inserted;
      if (inserted === 0) return { duplicate: true };
      // Serialises folding for one car and entry across instances sharing the database.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${event.carId}/${candidate.matchKey}`]);

      const earlier = await client.query<{ id: string }>(
        'SELECT id FROM hits WHERE car_id = $1 AND match_key = $2 AND last_seen_at_ms >= $3 ORDER BY last_seen_at_ms DESC LIMIT 1',
        [event.carId, candidate.matchKey, input.hitAtMs - input.cooldownMs],
      );
      const earlierId = earlier.rows[0]?.id;
      if (earlierId !== undefined) {
        const updated = await client.query<{ repeat_count: number }>(
          'UPDATE hits SET repeat_count = repeat_count + 1, last_seen_at_ms = GREATEST(last_seen_at_ms, $1), last_seq = $2 WHERE id = $3 RETURNING repeat_count',
          [input.hitAtMs, event.seq, earlierId],
        );
        return { duplicate: false, hit: null, repeat: repeatOf(earlierId, event, candidate, updated.rows[0]!.repeat_count, input.hitAtMs) };
      }

      const hit = buildHit(input.newHitId, event, candidate, { centralReceivedAtMs: receivedAtMs, hitAtMs: input.hitAtMs, clockOffsetMs: input.clockOffsetMs });
      await client.query(`INSERT INTO hits (${HIT_INSERT_COLUMNS.join(', ')}) VALUES (${marks(HIT_INSERT_COLUMNS.length)})`, hitInsertValues(hit, candidate.matchKey));
      await client.query('UPDATE events SET hit_id = $1 WHERE car_id = $2 AND seq = $3', [hit.hitId, event.carId, event.seq]);
      return { duplicate: false, hit, repeat: null };
    });
  }

  async getEvent(carId: string, seq: number): Promise<PatrolEvent | null> {
    const result = await this.pool.query<{ payload_json: string }>('SELECT payload_json FROM events WHERE car_id = $1 AND seq = $2', [carId, seq]);
    const row = result.rows[0];
    return row === undefined ? null : (JSON.parse(row.payload_json) as PatrolEvent);
  }

  async countEvents(carId: string): Promise<number> {
    return (await this.pool.query<{ count: number }>('SELECT COUNT(*)::int AS count FROM events WHERE car_id = $1', [carId])).rows[0]!.count;
  }

  async searchEvents(query: EventQuery): Promise<EventSummary[]> {
    const { where, params, limit } = eventFilter(query, pgPlaceholder);
    const result = await this.pool.query<EventSummaryRow>(`SELECT ${EVENT_SUMMARY_COLUMNS} FROM events ${where} ORDER BY frame_at_ms DESC, id DESC LIMIT ${limit}`, params);
    return result.rows.map(rowToEventSummary);
  }

  async getHit(hitId: string): Promise<StoredHit | null> {
    return getHitWith(this.pool, hitId);
  }

  async listHitsForCar(carId: string): Promise<StoredHit[]> {
    const result = await this.pool.query<HitRow>('SELECT * FROM hits WHERE car_id = $1 ORDER BY created_at_ms, id', [carId]);
    return result.rows.map(rowToHit);
  }

  async searchHits(query: HitQuery): Promise<StoredHit[]> {
    const { where, params, limit } = hitFilter(query, pgPlaceholder);
    const result = await this.pool.query<HitRow>(`SELECT * FROM hits ${where} ORDER BY created_at_ms DESC, id DESC LIMIT ${limit}`, params);
    return result.rows.map(rowToHit);
  }

  async decideHit(input: DecideHitInput): Promise<StoredHit> {
    return this.transaction(async (client) => {
      const row = (await client.query<HitRow>('SELECT * FROM hits WHERE id = $1 FOR UPDATE', [input.hitId])).rows[0];
      if (row === undefined) throw new StoreError('STORE_HIT_NOT_FOUND', `hit ${input.hitId} not found; it may have been removed by retention`);
      if (row.decision !== null) {
        throw new StoreError('STORE_HIT_ALREADY_DECIDED', `hit ${input.hitId} was already ${row.decision} by ${row.decided_by}; a decision cannot be changed`);
      }
      await client.query('UPDATE hits SET decision = $1, decision_reason = $2, decided_by = $3, decided_at_ms = $4 WHERE id = $5', [
        input.decision,
        input.reason,
        input.decidedBy,
        input.decidedAtMs,
        input.hitId,
      ]);
      const negative = input.faceNegative;
      if (negative !== undefined) {
        await client.query(
          `INSERT INTO face_negatives (subject_id, hit_id, embedding, at_ms) VALUES ($1, $2, $3, $4)
           ON CONFLICT (subject_id, hit_id) DO UPDATE SET embedding = excluded.embedding, at_ms = excluded.at_ms`,
          [negative.subjectId, negative.hitId, embeddingsToBytes([negative.embedding]), negative.atMs],
        );
        await bumpVersion(client, 'watchlist', 'upsert', [`negative:${negative.subjectId}:${negative.hitId}`], input.decidedAtMs);
      }
      return (await getHitWith(client, input.hitId))!;
    });
  }

  async recordCarStatus(status: CarStatusMessage, receivedAtMs: number): Promise<void> {
    const analysedFps = status.cameras.reduce((sum, camera) => sum + camera.analysedFps, 0);
    await this.pool.query(
      `INSERT INTO cars (car_id, last_status_at_ms, clock_offset_ms, cameras_json, analysed_fps, outbox_backlog) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (car_id) DO UPDATE SET last_status_at_ms = $2, clock_offset_ms = COALESCE($3, cars.clock_offset_ms),
                                          cameras_json = $4, analysed_fps = $5, outbox_backlog = $6`,
      [status.carId, receivedAtMs, status.clockOffsetMs, JSON.stringify(status.cameras), analysedFps, status.outboxBacklog],
    );
  }

  async getCarClockOffset(carId: string): Promise<number | null> {
    const result = await this.pool.query<{ clock_offset_ms: number | null }>('SELECT clock_offset_ms FROM cars WHERE car_id = $1', [carId]);
    return result.rows[0]?.clock_offset_ms ?? null;
  }

  async listFleetStatus(): Promise<CarStatus[]> {
    return (await this.pool.query<CarRow>('SELECT * FROM cars ORDER BY car_id')).rows.map(rowToCarStatus);
  }

  async listVersion(list: ListName): Promise<number> {
    return (await this.pool.query<{ version: number }>('SELECT version FROM list_versions WHERE list = $1', [list])).rows[0]!.version;
  }

  async listChangesSince(list: ListName, sinceVersion: number, limit: number): Promise<ListChange[]> {
    const result = await this.pool.query<{ list: ListName; version: number; op: 'upsert' | 'remove'; key: string; at_ms: number }>(
      'SELECT * FROM list_changes WHERE list = $1 AND version > $2 ORDER BY version, key LIMIT $3',
      [list, sinceVersion, limit],
    );
    return result.rows.map((row) => ({ list: row.list, version: row.version, op: row.op, key: row.key, atMs: row.at_ms }));
  }

  async listHotlistEntries(): Promise<StoredHotlistEntry[]> {
    const result = await this.pool.query<HotlistRow>('SELECT * FROM hotlist_entries ORDER BY plate');
    return result.rows.map(rowToHotlistEntry);
  }

  async upsertHotlistEntries(entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<number> {
    return this.transaction(async (client) => {
      await upsertHotlistRows(client, entries, change);
      return bumpVersion(client, 'hotlist', 'upsert', entries.map((entry) => entry.plate), change.atMs);
    });
  }

  async removeHotlistEntries(plates: readonly string[], change: ChangeMeta): Promise<number> {
    return this.transaction(async (client) => {
      await client.query('DELETE FROM hotlist_entries WHERE plate = ANY($1::text[])', [plates]);
      return bumpVersion(client, 'hotlist', 'remove', plates, change.atMs);
    });
  }

  async replaceConfigHotlist(entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<number> {
    return this.transaction(async (client) => {
      const kept = entries.map((entry) => entry.plate);
      const removed = await client.query<{ plate: string }>("DELETE FROM hotlist_entries WHERE source = 'config' AND NOT (plate = ANY($1::text[])) RETURNING plate", [kept]);
      await upsertHotlistRows(client, entries.map((entry) => ({ ...entry, source: 'config' as const })), change);
      if (removed.rows.length > 0) await bumpVersion(client, 'hotlist', 'remove', removed.rows.map((row) => row.plate), change.atMs);
      return bumpVersion(client, 'hotlist', 'upsert', kept, change.atMs);
    });
  }

  async listFaceLists(): Promise<FaceList[]> {
    const result = await this.pool.query<{ list_id: string; threshold: number }>('SELECT * FROM face_lists ORDER BY list_id');
    return result.rows.map((row) => ({ listId: row.list_id, threshold: row.threshold }));
  }

  async upsertFaceList(list: FaceList, change: ChangeMeta): Promise<number> {
    return this.transaction(async (client) => {
      await client.query('INSERT INTO face_lists (list_id, threshold) VALUES ($1, $2) ON CONFLICT (list_id) DO UPDATE SET threshold = excluded.threshold', [list.listId, list.threshold]);
      return bumpVersion(client, 'watchlist', 'upsert', [`list:${list.listId}`], change.atMs);
    });
  }

  async listSubjects(): Promise<StoredSubject[]> {
    return (await this.pool.query<SubjectRow>('SELECT * FROM subjects ORDER BY subject_id')).rows.map(rowToSubject);
  }

  async upsertSubject(subject: SubjectInput, change: ChangeMeta): Promise<number> {
    return this.transaction(async (client) => {
      const list = await client.query('SELECT 1 FROM face_lists WHERE list_id = $1', [subject.listId]);
      if (list.rowCount === 0) {
        throw new StoreError('STORE_LIST_NOT_FOUND', `face list ${subject.listId} does not exist; create it before enrolling subject ${subject.subjectId}`);
      }
      await client.query(
        `INSERT INTO subjects (subject_id, list_id, label, dimension, embeddings, source, enrolled_by, enrolled_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (subject_id) DO UPDATE SET list_id = excluded.list_id, label = excluded.label, dimension = excluded.dimension,
           embeddings = excluded.embeddings, source = excluded.source, enrolled_by = excluded.enrolled_by, enrolled_at_ms = excluded.enrolled_at_ms`,
        [subject.subjectId, subject.listId, subject.label, subject.embeddings[0]?.length ?? 0, embeddingsToBytes(subject.embeddings), subject.source, change.by, change.atMs],
      );
      return bumpVersion(client, 'watchlist', 'upsert', [`subject:${subject.subjectId}`], change.atMs);
    });
  }

  async removeSubject(subjectId: string, change: ChangeMeta): Promise<number> {
    return this.transaction(async (client) => {
      const removed = await client.query('DELETE FROM subjects WHERE subject_id = $1', [subjectId]);
      if (removed.rowCount === 0) throw new StoreError('STORE_SUBJECT_NOT_FOUND', `subject ${subjectId} is not enrolled; list the subjects to find its id`);
      await client.query('DELETE FROM face_negatives WHERE subject_id = $1', [subjectId]);
      return bumpVersion(client, 'watchlist', 'remove', [`subject:${subjectId}`], change.atMs);
    });
  }

  async listFaceNegatives(): Promise<FaceNegative[]> {
    const result = await this.pool.query<{ subject_id: string; hit_id: string; embedding: Buffer; at_ms: number }>('SELECT * FROM face_negatives ORDER BY at_ms');
    return result.rows.map((row) => ({ subjectId: row.subject_id, hitId: row.hit_id, atMs: row.at_ms, embedding: bytesToEmbeddings(row.embedding, row.embedding.byteLength / 4)[0]! }));
  }

  async createUser(user: NewUser): Promise<void> {
    const result = await this.pool.query(
      'INSERT INTO users (username, role, password_hash, disabled, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (username) DO NOTHING',
      [user.username, user.role, user.passwordHash, user.disabled, user.createdAtMs],
    );
    if (result.rowCount === 0) throw new StoreError('STORE_USER_EXISTS', `user ${user.username} already exists; choose another username`);
  }

  async getUser(username: string): Promise<User | null> {
    const row = (await this.pool.query<UserRow>('SELECT * FROM users WHERE username = $1', [username])).rows[0];
    return row === undefined ? null : rowToUser(row);
  }

  async listUsers(): Promise<User[]> {
    return (await this.pool.query<UserRow>('SELECT * FROM users ORDER BY username')).rows.map(rowToUser);
  }

  async updateUser(username: string, update: UserUpdate): Promise<User> {
    const result = await this.pool.query<UserRow>(
      `UPDATE users SET role = COALESCE($1, role), password_hash = COALESCE($2, password_hash), disabled = COALESCE($3, disabled), updated_at_ms = $4
       WHERE username = $5 RETURNING *`,
      [update.role ?? null, update.passwordHash ?? null, update.disabled ?? null, update.updatedAtMs, username],
    );
    const row = result.rows[0];
    if (row === undefined) throw new StoreError('STORE_USER_NOT_FOUND', `user ${username} not found`);
    return rowToUser(row);
  }

  async saveWebSession(session: StoredWebSession): Promise<void> {
    await this.pool.query(
      `INSERT INTO web_sessions (token_sha256, username, role, csrf_token, created_at_ms, last_seen_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (token_sha256) DO UPDATE SET username = excluded.username, role = excluded.role, csrf_token = excluded.csrf_token,
                                                created_at_ms = excluded.created_at_ms, last_seen_at_ms = excluded.last_seen_at_ms`,
      [session.tokenSha256, session.username, session.role, session.csrfToken, session.createdAtMs, session.lastSeenAtMs],
    );
  }

  async listLiveWebSessions(cutoffs: WebSessionCutoffs): Promise<StoredWebSession[]> {
    const result = await this.pool.query<WebSessionRow>(
      'SELECT * FROM web_sessions WHERE last_seen_at_ms >= $1 AND created_at_ms >= $2 ORDER BY created_at_ms',
      [cutoffs.lastSeenBeforeMs, cutoffs.createdBeforeMs],
    );
    return result.rows.map(rowToWebSession);
  }

  async updateWebSessionsLastSeen(updates: readonly WebSessionLastSeen[]): Promise<void> {
    if (updates.length === 0) return;
    await this.pool.query(
      `UPDATE web_sessions SET last_seen_at_ms = GREATEST(web_sessions.last_seen_at_ms, u.last_seen_at_ms)
       FROM (SELECT token_sha256, MAX(last_seen_at_ms) AS last_seen_at_ms
             FROM unnest($1::text[], $2::double precision[]) AS t (token_sha256, last_seen_at_ms) GROUP BY token_sha256) AS u
       WHERE web_sessions.token_sha256 = u.token_sha256`,
      [updates.map((update) => update.tokenSha256), updates.map((update) => update.lastSeenAtMs)],
    );
  }

  async deleteWebSession(tokenSha256: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM web_sessions WHERE token_sha256 = $1', [tokenSha256])).rowCount ?? 0) > 0;
  }

  async deleteUserWebSessions(username: string): Promise<number> {
    return (await this.pool.query('DELETE FROM web_sessions WHERE username = $1', [username])).rowCount ?? 0;
  }

  async purgeExpiredWebSessions(cutoffs: WebSessionCutoffs): Promise<number> {
    const result = await this.pool.query('DELETE FROM web_sessions WHERE last_seen_at_ms < $1 OR created_at_ms < $2', [cutoffs.lastSeenBeforeMs, cutoffs.createdBeforeMs]);
    return result.rowCount ?? 0;
  }

  async appendAudit(entry: AuditEntryInput): Promise<AuditEntry> {
    const details = entry.details === undefined || entry.details === null ? null : JSON.stringify(entry.details);
    const result = await this.pool.query<AuditRow>(
      'INSERT INTO audit_log (at_ms, actor, action, target, reason, details_json) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [entry.atMs, entry.actor, entry.action, entry.target, entry.reason, details],
    );
    return rowToAudit(result.rows[0]!);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const { where, params, limit } = auditFilter(query, pgPlaceholder);
    return (await this.pool.query<AuditRow>(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT ${limit}`, params)).rows.map(rowToAudit);
  }

  async purge(cutoffs: RetentionCutoffs): Promise<PurgeCounts> {
    const run = (sql: string, cutoffMs: number | null): Promise<number> =>
      purgeInBatches(cutoffMs, async (beforeMs, batchRows) => (await this.pool.query(sql, [beforeMs, batchRows])).rowCount ?? 0);
    const deleteEvents = (kind: PatrolEvent['kind']): string =>
      `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE kind = '${kind}' AND central_received_at_ms < $1 LIMIT $2)`;
    return {
      hits: await run('DELETE FROM hits WHERE id IN (SELECT id FROM hits WHERE created_at_ms < $1 LIMIT $2)', cutoffs.hitsBeforeMs),
      plateReads: await run(deleteEvents('plate'), cutoffs.plateReadsBeforeMs),
      faceSightings: await run(deleteEvents('face'), cutoffs.faceSightingsBeforeMs),
      objectEvents: await run(deleteEvents('objects'), cutoffs.objectEventsBeforeMs),
      evidence:
        (await run(
          `UPDATE events SET payload_json = jsonb_set(payload_json::jsonb, '{evidence}', '[]'::jsonb)::text, evidence_count = 0
           WHERE id IN (SELECT id FROM events WHERE evidence_count > 0 AND central_received_at_ms < $1 LIMIT $2)`,
          cutoffs.evidenceBeforeMs,
        )) +
        (await run(`UPDATE hits SET evidence_json = '[]' WHERE id IN (SELECT id FROM hits WHERE evidence_json <> '[]' AND created_at_ms < $1 LIMIT $2)`, cutoffs.evidenceBeforeMs)),
      audit: await run('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at_ms < $1 LIMIT $2)', cutoffs.auditBeforeMs),
    };
  }
}

async function getHitWith(db: Queryable, hitId: string): Promise<StoredHit | null> {
  const row = (await db.query<HitRow>('SELECT * FROM hits WHERE id = $1', [hitId])).rows[0];
  return row === undefined ? null : rowToHit(row);
}

/** Bumps a list's version and records which keys changed; call inside a transaction. */
async function bumpVersion(client: pg.PoolClient, list: ListName, op: 'upsert' | 'remove', keys: readonly string[], atMs: number): Promise<number> {
  const { version } = (await client.query<{ version: number }>('UPDATE list_versions SET version = version + 1 WHERE list = $1 RETURNING version', [list])).rows[0]!;
  const unique = [...new Set(keys)];
  if (unique.length > 0) {
    await client.query('INSERT INTO list_changes (list, version, op, key, at_ms) SELECT $1, $2, $3, key, $5 FROM unnest($4::text[]) AS key', [list, version, op, unique, atMs]);
  }
  return version;
}

async function upsertHotlistRows(client: pg.PoolClient, entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO hotlist_entries (plate, reason, priority, expires_at_ms, source, added_by, added_at_ms)
     SELECT plate, reason, priority, expires_at_ms, source, $6, $7
     FROM unnest($1::text[], $2::text[], $3::int[], $4::double precision[], $5::text[]) AS e (plate, reason, priority, expires_at_ms, source)
     ON CONFLICT (plate) DO UPDATE SET reason = excluded.reason, priority = excluded.priority, expires_at_ms = excluded.expires_at_ms,
                                       source = excluded.source, added_by = excluded.added_by, added_at_ms = excluded.added_at_ms`,
    [
      entries.map((entry) => entry.plate),
      entries.map((entry) => entry.reason),
      entries.map((entry) => entry.priority),
      entries.map((entry) => entry.expiresAtMs),
      entries.map((entry) => entry.source),
      change.by,
      change.atMs,
    ],
  );
}
