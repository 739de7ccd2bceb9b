// CentralStore on SQLite through better-sqlite3: one file, WAL journal, migrations by PRAGMA
// user_version. Calls are synchronous underneath, so each method is one transaction and never interleaves.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PatrolEvent } from '../../protocol/event.js';
import type { CarStatusMessage } from '../../protocol/status.js';
import { buildHit } from '../hit.js';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.js';
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

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

const sqlitePlaceholder = (): string => '?';

export class SqliteStore implements CentralStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;

  /** Opens or creates the database at filePath (":memory:" for a throw-away one) and migrates it. */
  constructor(readonly filePath: string) {
    try {
      // The folder of a new database is created, as the agent does for its outbox.
      if (filePath !== ':memory:') mkdirSync(path.dirname(filePath), { recursive: true });
      this.db = new Database(filePath);
    } catch (error) {
      throw new StoreError('STORE_OPEN_FAILED', `could not open database ${filePath}: ${(error as Error).message}; check the path and its permissions`, { cause: error });
    }
    this.db.pragma('journal_mode = WAL');
    // FULL makes each commit durable before the service acknowledges the MQTT message.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db, filePath);
    this.statements = prepareStatements(this.db);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async recordEvent(input: RecordEventInput): Promise<RecordEventOutcome> {
    return this.db.transaction((): RecordEventOutcome => {
      const { event, receivedAtMs, candidate } = input;
      const inserted = this.statements.insertEvent.run(...eventInsertValues(event, receivedAtMs, input.clockOffsetMs, plateTextOf(event)));
      if (inserted.changes === 0) return { duplicate: true };
      this.statements.touchCarEvent.run({ carId: event.carId, atMs: receivedAtMs, clockOffsetMs: event.clockOffsetMs });
      if (candidate === null) return { duplicate: false, hit: null, repeat: null };

      const since = input.hitAtMs - input.cooldownMs;
      const earlier = this.statements.findRecentHit.get(event.carId, candidate.matchKey, since) as { id: string } | undefined;
      if (earlier !== undefined) {
        const row = this.statements.recordRepeat.get(input.hitAtMs, event.seq, earlier.id) as { repeat_count: number };
        return { duplicate: false, hit: null, repeat: repeatOf(earlier.id, event, candidate, row.repeat_count, input.hitAtMs) };
      }

      const hit = buildHit(input.newHitId, event, candidate, { centralReceivedAtMs: receivedAtMs, hitAtMs: input.hitAtMs, clockOffsetMs: input.clockOffsetMs });
      this.statements.insertHit.run(...hitInsertValues(hit, candidate.matchKey));
      this.statements.linkEventToHit.run(hit.hitId, event.carId, event.seq);
      return { duplicate: false, hit, repeat: null };
    })();
  }

  async getEvent(carId: string, seq: number): Promise<PatrolEvent | null> {
    const row = this.statements.getEvent.get(carId, seq) as { payload_json: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.payload_json) as PatrolEvent);
  }

  async countEvents(carId: string): Promise<number> {
    return (this.statements.countEvents.get(carId) as { count: number }).count;
  }

  async searchEvents(query: EventQuery): Promise<EventSummary[]> {
    const { where, params, limit } = eventFilter(query, sqlitePlaceholder);
    const rows = this.db.prepare(`SELECT ${EVENT_SUMMARY_COLUMNS} FROM events ${where} ORDER BY frame_at_ms DESC, id DESC LIMIT ${limit}`).all(...params);
    return (rows as EventSummaryRow[]).map(rowToEventSummary);
  }

  async getHit(hitId: string): Promise<StoredHit | null> {
    const row = this.statements.getHit.get(hitId) as HitRow | undefined;
    return row === undefined ? null : rowToHit(row);
  }

  async listHitsForCar(carId: string): Promise<StoredHit[]> {
    return (this.statements.listHitsForCar.all(carId) as HitRow[]).map(rowToHit);
  }

  async searchHits(query: HitQuery): Promise<StoredHit[]> {
    const { where, params, limit } = hitFilter(query, sqlitePlaceholder);
    const rows = this.db.prepare(`SELECT * FROM hits ${where} ORDER BY created_at_ms DESC, rowid DESC LIMIT ${limit}`).all(...params);
    return (rows as HitRow[]).map(rowToHit);
  }

  async decideHit(input: DecideHitInput): Promise<StoredHit> {
    return this.db.transaction((): StoredHit => {
      const row = this.statements.getHit.get(input.hitId) as HitRow | undefined;
      if (row === undefined) throw new StoreError('STORE_HIT_NOT_FOUND', `hit ${input.hitId} not found; it may have been removed by retention`);
      if (row.decision !== null) {
        throw new StoreError('STORE_HIT_ALREADY_DECIDED', `hit ${input.hitId} was already ${row.decision} by ${row.decided_by}; a decision cannot be changed`);
      }
      this.statements.decideHit.run(input.decision, input.reason, input.decidedBy, input.decidedAtMs, input.hitId);
      if (input.faceNegative !== undefined) this.insertNegative(input.faceNegative, input.decidedAtMs);
      return rowToHit(this.statements.getHit.get(input.hitId) as HitRow);
    })();
  }

  private insertNegative(negative: FaceNegative, atMs: number): void {
    this.statements.insertNegative.run(negative.subjectId, negative.hitId, embeddingsToBytes([negative.embedding]), negative.atMs);
    this.bumpVersion('watchlist', 'upsert', [`negative:${negative.subjectId}:${negative.hitId}`], atMs);
  }

  async recordCarStatus(status: CarStatusMessage, receivedAtMs: number): Promise<void> {
    const analysedFps = status.cameras.reduce((sum, camera) => sum + camera.analysedFps, 0);
    this.statements.upsertCarStatus.run({
      carId: status.carId,
      atMs: receivedAtMs,
      clockOffsetMs: status.clockOffsetMs,
      camerasJson: JSON.stringify(status.cameras),
      analysedFps,
      outboxBacklog: status.outboxBacklog,
    });
  }

  async getCarClockOffset(carId: string): Promise<number | null> {
    const row = this.statements.getCarClockOffset.get(carId) as { clock_offset_ms: number | null } | undefined;
    return row?.clock_offset_ms ?? null;
  }

  async listFleetStatus(): Promise<CarStatus[]> {
    return (this.statements.listCars.all() as CarRow[]).map(rowToCarStatus);
  }

  async listVersion(list: ListName): Promise<number> {
    return (this.statements.getListVersion.get(list) as { version: number }).version;
  }

  async listChangesSince(list: ListName, sinceVersion: number, limit: number): Promise<ListChange[]> {
    const rows = this.statements.listChangesSince.all(list, sinceVersion, limit) as { list: ListName; version: number; op: 'upsert' | 'remove'; key: string; at_ms: number }[];
    return rows.map((row) => ({ list: row.list, version: row.version, op: row.op, key: row.key, atMs: row.at_ms }));
  }

  /** Bumps a list's version and records which keys changed; call inside a transaction. */
  private bumpVersion(list: ListName, op: 'upsert' | 'remove', keys: readonly string[], atMs: number): number {
    const { version } = this.statements.bumpListVersion.get(list) as { version: number };
    for (const key of new Set(keys)) this.statements.insertListChange.run(list, version, op, key, atMs);
    return version;
  }

  async listHotlistEntries(): Promise<StoredHotlistEntry[]> {
    return (this.statements.listHotlist.all() as HotlistRow[]).map(rowToHotlistEntry);
  }

  async upsertHotlistEntries(entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<number> {
    return this.db.transaction(() => {
      for (const entry of entries) this.statements.upsertHotlist.run(entry.plate, entry.reason, entry.priority, entry.expiresAtMs, entry.source, change.by, change.atMs);
      return this.bumpVersion('hotlist', 'upsert', entries.map((entry) => entry.plate), change.atMs);
    })();
  }

  async removeHotlistEntries(plates: readonly string[], change: ChangeMeta): Promise<number> {
    return this.db.transaction(() => {
      for (const plate of plates) this.statements.removeHotlist.run(plate);
      return this.bumpVersion('hotlist', 'remove', plates, change.atMs);
    })();
  }

  async replaceConfigHotlist(entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<number> {
    return this.db.transaction(() => {
      const previous = (this.statements.listConfigPlates.all() as { plate: string }[]).map((row) => row.plate);
      const kept = new Set(entries.map((entry) => entry.plate));
      const removed = previous.filter((plate) => !kept.has(plate));
      for (const plate of removed) this.statements.removeHotlist.run(plate);
      for (const entry of entries) this.statements.upsertHotlist.run(entry.plate, entry.reason, entry.priority, entry.expiresAtMs, 'config', change.by, change.atMs);
      if (removed.length > 0) this.bumpVersion('hotlist', 'remove', removed, change.atMs);
      return this.bumpVersion('hotlist', 'upsert', [...kept], change.atMs);
    })();
  }

  async listFaceLists(): Promise<FaceList[]> {
    return (this.statements.listFaceLists.all() as { list_id: string; threshold: number }[]).map((row) => ({ listId: row.list_id, threshold: row.threshold }));
  }

  async upsertFaceList(list: FaceList, change: ChangeMeta): Promise<number> {
    return this.db.transaction(() => {
      this.statements.upsertFaceList.run(list.listId, list.threshold);
      return this.bumpVersion('watchlist', 'upsert', [`list:${list.listId}`], change.atMs);
    })();
  }

  async listSubjects(): Promise<StoredSubject[]> {
    return (this.statements.listSubjects.all() as SubjectRow[]).map(rowToSubject);
  }

  async upsertSubject(subject: SubjectInput, change: ChangeMeta): Promise<number> {
    return this.db.transaction(() => {
      if (this.statements.getFaceList.get(subject.listId) === undefined) {
        throw new StoreError('STORE_LIST_NOT_FOUND', `face list ${subject.listId} does not exist; create it before enrolling subject ${subject.subjectId}`);
      }
      const dimension = subject.embeddings[0]?.length ?? 0;
      this.statements.upsertSubject.run(subject.subjectId, subject.listId, subject.label, dimension, embeddingsToBytes(subject.embeddings), subject.source, change.by, change.atMs);
      return this.bumpVersion('watchlist', 'upsert', [`subject:${subject.subjectId}`], change.atMs);
    })();
  }

  async removeSubject(subjectId: string, change: ChangeMeta): Promise<number> {
    return this.db.transaction(() => {
      const removed = this.statements.removeSubject.run(subjectId);
      if (removed.changes === 0) throw new StoreError('STORE_SUBJECT_NOT_FOUND', `subject ${subjectId} is not enrolled; list the subjects to find its id`);
      this.statements.removeNegatives.run(subjectId);
      return this.bumpVersion('watchlist', 'remove', [`subject:${subjectId}`], change.atMs);
    })();
  }

  async listFaceNegatives(): Promise<FaceNegative[]> {
    const rows = this.statements.listNegatives.all() as { subject_id: string; hit_id: string; embedding: Buffer; at_ms: number }[];
    return rows.map((row) => ({ subjectId: row.subject_id, hitId: row.hit_id, atMs: row.at_ms, embedding: bytesToEmbeddings(row.embedding, row.embedding.byteLength / 4)[0]! }));
  }

  async createUser(user: NewUser): Promise<void> {
    const inserted = this.statements.insertUser.run(user.username, user.role, user.passwordHash, user.disabled ? 1 : 0, user.createdAtMs, user.createdAtMs);
    if (inserted.changes === 0) throw new StoreError('STORE_USER_EXISTS', `user ${user.username} already exists; choose another username`);
  }

  async getUser(username: string): Promise<User | null> {
    const row = this.statements.getUser.get(username) as UserRow | undefined;
    return row === undefined ? null : rowToUser(row);
  }

  async listUsers(): Promise<User[]> {
    return (this.statements.listUsers.all() as UserRow[]).map(rowToUser);
  }

  async updateUser(username: string, update: UserUpdate): Promise<User> {
    let disabled: number | null = null;
    if (update.disabled !== undefined) disabled = update.disabled ? 1 : 0;
    const row = this.statements.updateUser.get(update.role ?? null, update.passwordHash ?? null, disabled, update.updatedAtMs, username) as UserRow | undefined;
    if (row === undefined) throw new StoreError('STORE_USER_NOT_FOUND', `user ${username} not found`);
    return rowToUser(row);
  }

  async saveWebSession(session: StoredWebSession): Promise<void> {
    this.statements.upsertWebSession.run(session.tokenSha256, session.username, session.role, session.csrfToken, session.createdAtMs, session.lastSeenAtMs);
  }

  async listLiveWebSessions(cutoffs: WebSessionCutoffs): Promise<StoredWebSession[]> {
    return (this.statements.listLiveWebSessions.all(cutoffs.lastSeenBeforeMs, cutoffs.createdBeforeMs) as WebSessionRow[]).map(rowToWebSession);
  }

  async updateWebSessionsLastSeen(updates: readonly WebSessionLastSeen[]): Promise<void> {
    this.db.transaction(() => {
      for (const update of updates) this.statements.updateWebSessionLastSeen.run(update.lastSeenAtMs, update.tokenSha256);
    })();
  }

  async deleteWebSession(tokenSha256: string): Promise<boolean> {
    return this.statements.deleteWebSession.run(tokenSha256).changes > 0;
  }

  async deleteUserWebSessions(username: string): Promise<number> {
    return this.statements.deleteUserWebSessions.run(username).changes;
  }

  async purgeExpiredWebSessions(cutoffs: WebSessionCutoffs): Promise<number> {
    return this.statements.purgeExpiredWebSessions.run(cutoffs.lastSeenBeforeMs, cutoffs.createdBeforeMs).changes;
  }

  async appendAudit(entry: AuditEntryInput): Promise<AuditEntry> {
    const details = entry.details === undefined || entry.details === null ? null : JSON.stringify(entry.details);
    const row = this.statements.insertAudit.get(entry.atMs, entry.actor, entry.action, entry.target, entry.reason, details) as AuditRow;
    return rowToAudit(row);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const { where, params, limit } = auditFilter(query, sqlitePlaceholder);
    return (this.db.prepare(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT ${limit}`).all(...params) as AuditRow[]).map(rowToAudit);
  }

  async purge(cutoffs: RetentionCutoffs): Promise<PurgeCounts> {
    const run = (sql: string, cutoffMs: number | null): Promise<number> =>
      purgeInBatches(cutoffMs, async (beforeMs, batchSize) => this.db.prepare(sql).run(beforeMs, batchSize).changes);
    const deleteEvents = (kind: PatrolEvent['kind']): string =>
      `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE kind = '${kind}' AND central_received_at_ms < ? LIMIT ?)`;
    return {
      hits: await run('DELETE FROM hits WHERE rowid IN (SELECT rowid FROM hits WHERE created_at_ms < ? LIMIT ?)', cutoffs.hitsBeforeMs),
      plateReads: await run(deleteEvents('plate'), cutoffs.plateReadsBeforeMs),
      faceSightings: await run(deleteEvents('face'), cutoffs.faceSightingsBeforeMs),
      objectEvents: await run(deleteEvents('objects'), cutoffs.objectEventsBeforeMs),
      evidence:
        (await run(
          `UPDATE events SET payload_json = json_set(payload_json, '$.evidence', json('[]')), evidence_count = 0
           WHERE id IN (SELECT id FROM events WHERE evidence_count > 0 AND central_received_at_ms < ? LIMIT ?)`,
          cutoffs.evidenceBeforeMs,
        )) +
        (await run(
          `UPDATE hits SET evidence_json = '[]' WHERE rowid IN (SELECT rowid FROM hits WHERE evidence_json <> '[]' AND created_at_ms < ? LIMIT ?)`,
          cutoffs.evidenceBeforeMs,
        )),
      audit: await run('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at_ms < ? LIMIT ?)', cutoffs.auditBeforeMs),
    };
  }
}


function migrate(db: Database.Database, filePath: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SQLITE_MIGRATIONS.length) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `database ${filePath} has schema version ${version}, newer than the ${SQLITE_MIGRATIONS.length} this build knows; run a newer build or another database`,
    );
  }
  for (let step = version; step < SQLITE_MIGRATIONS.length; step++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[step]!);
      db.pragma(`user_version = ${step + 1}`);
    })();
  }
}

function prepareStatements(db: Database.Database) {
  const marks = (count: number): string => Array.from({ length: count }, () => '?').join(', ');
  return {
    insertEvent: db.prepare(`INSERT INTO events (${EVENT_INSERT_COLUMNS.join(', ')}) VALUES (${marks(EVENT_INSERT_COLUMNS.length)}) ON CONFLICT (car_id, seq) DO NOTHING`),
    touchCarEvent: db.prepare(`
      INSERT INTO cars (car_id, last_event_at_ms, clock_offset_ms) VALUES (@carId, @atMs, @clockOffsetMs)
      ON CONFLICT (car_id) DO UPDATE SET last_event_at_ms = MAX(COALESCE(last_event_at_ms, 0), @atMs),
                                         clock_offset_ms = COALESCE(@clockOffsetMs, clock_offset_ms)`),
    linkEventToHit: db.prepare('UPDATE events SET hit_id = ? WHERE car_id = ? AND seq = ?'),
    getEvent: db.prepare('SELECT payload_json FROM events WHERE car_id = ? AND seq = ?'),
    countEvents: db.prepare('SELECT COUNT(*) AS count FROM events WHERE car_id = ?'),
    insertHit: db.prepare(`INSERT INTO hits (${HIT_INSERT_COLUMNS.join(', ')}) VALUES (${marks(HIT_INSERT_COLUMNS.length)})`),
    findRecentHit: db.prepare('SELECT id FROM hits WHERE car_id = ? AND match_key = ? AND last_seen_at_ms >= ? ORDER BY last_seen_at_ms DESC LIMIT 1'),
    recordRepeat: db.prepare(`
      UPDATE hits SET repeat_count = repeat_count + 1, last_seen_at_ms = MAX(last_seen_at_ms, ?), last_seq = ?
      WHERE id = ? RETURNING repeat_count`),
    getHit: db.prepare('SELECT * FROM hits WHERE id = ?'),
    listHitsForCar: db.prepare('SELECT * FROM hits WHERE car_id = ? ORDER BY created_at_ms, rowid'),
    decideHit: db.prepare('UPDATE hits SET decision = ?, decision_reason = ?, decided_by = ?, decided_at_ms = ? WHERE id = ?'),
    insertNegative: db.prepare('INSERT OR REPLACE INTO face_negatives (subject_id, hit_id, embedding, at_ms) VALUES (?, ?, ?, ?)'),
    listNegatives: db.prepare('SELECT * FROM face_negatives ORDER BY at_ms'),
    removeNegatives: db.prepare('DELETE FROM face_negatives WHERE subject_id = ?'),
    upsertCarStatus: db.prepare(`
      INSERT INTO cars (car_id, last_status_at_ms, clock_offset_ms, cameras_json, analysed_fps, outbox_backlog)
      VALUES (@carId, @atMs, @clockOffsetMs, @camerasJson, @analysedFps, @outboxBacklog)
      ON CONFLICT (car_id) DO UPDATE SET last_status_at_ms = @atMs, clock_offset_ms = COALESCE(@clockOffsetMs, clock_offset_ms),
                                         cameras_json = @camerasJson, analysed_fps = @analysedFps, outbox_backlog = @outboxBacklog`),
    getCarClockOffset: db.prepare('SELECT clock_offset_ms FROM cars WHERE car_id = ?'),
    listCars: db.prepare('SELECT * FROM cars ORDER BY car_id'),
    getListVersion: db.prepare('SELECT version FROM list_versions WHERE list = ?'),
    bumpListVersion: db.prepare('UPDATE list_versions SET version = version + 1 WHERE list = ? RETURNING version'),
    insertListChange: db.prepare('INSERT INTO list_changes (list, version, op, key, at_ms) VALUES (?, ?, ?, ?, ?)'),
    listChangesSince: db.prepare('SELECT * FROM list_changes WHERE list = ? AND version > ? ORDER BY version, key LIMIT ?'),
    listHotlist: db.prepare('SELECT * FROM hotlist_entries ORDER BY plate'),
    listConfigPlates: db.prepare("SELECT plate FROM hotlist_entries WHERE source = 'config'"),
    upsertHotlist: db.prepare(`
      INSERT INTO hotlist_entries (plate, reason, priority, expires_at_ms, source, added_by, added_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (plate) DO UPDATE SET reason = excluded.reason, priority = excluded.priority, expires_at_ms = excluded.expires_at_ms,
                                        source = excluded.source, added_by = excluded.added_by, added_at_ms = excluded.added_at_ms`),
    removeHotlist: db.prepare('DELETE FROM hotlist_entries WHERE plate = ?'),
    listFaceLists: db.prepare('SELECT * FROM face_lists ORDER BY list_id'),
    getFaceList: db.prepare('SELECT list_id FROM face_lists WHERE list_id = ?'),
    upsertFaceList: db.prepare('INSERT INTO face_lists (list_id, threshold) VALUES (?, ?) ON CONFLICT (list_id) DO UPDATE SET threshold = excluded.threshold'),
    listSubjects: db.prepare('SELECT * FROM subjects ORDER BY subject_id'),
    upsertSubject: db.prepare(`
      INSERT INTO subjects (subject_id, list_id, label, dimension, embeddings, source, enrolled_by, enrolled_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (subject_id) DO UPDATE SET list_id = excluded.list_id, label = excluded.label, dimension = excluded.dimension,
        embeddings = excluded.embeddings, source = excluded.source, enrolled_by = excluded.enrolled_by, enrolled_at_ms = excluded.enrolled_at_ms`),
    removeSubject: db.prepare('DELETE FROM subjects WHERE subject_id = ?'),
    insertUser: db.prepare('INSERT INTO users (username, role, password_hash, disabled, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING'),
    getUser: db.prepare('SELECT * FROM users WHERE username = ?'),
    listUsers: db.prepare('SELECT * FROM users ORDER BY username'),
    updateUser: db.prepare(`
      UPDATE users SET role = COALESCE(?, role), password_hash = COALESCE(?, password_hash), disabled = COALESCE(?, disabled), updated_at_ms = ?
      WHERE username = ? RETURNING *`),
    upsertWebSession: db.prepare(`
      INSERT INTO web_sessions (token_sha256, username, role, csrf_token, created_at_ms, last_seen_at_ms) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (token_sha256) DO UPDATE SET username = excluded.username, role = excluded.role, csrf_token = excluded.csrf_token,
                                               created_at_ms = excluded.created_at_ms, last_seen_at_ms = excluded.last_seen_at_ms`),
    listLiveWebSessions: db.prepare('SELECT * FROM web_sessions WHERE last_seen_at_ms >= ? AND created_at_ms >= ? ORDER BY created_at_ms'),
    updateWebSessionLastSeen: db.prepare('UPDATE web_sessions SET last_seen_at_ms = MAX(last_seen_at_ms, ?) WHERE token_sha256 = ?'),
    deleteWebSession: db.prepare('DELETE FROM web_sessions WHERE token_sha256 = ?'),
    deleteUserWebSessions: db.prepare('DELETE FROM web_sessions WHERE username = ?'),
    purgeExpiredWebSessions: db.prepare('DELETE FROM web_sessions WHERE last_seen_at_ms < ? OR created_at_ms < ?'),
    insertAudit: db.prepare('INSERT INTO audit_log (at_ms, actor, action, target, reason, details_json) VALUES (?, ?, ?, ?, ?, ?) RETURNING *'),
  };
}
