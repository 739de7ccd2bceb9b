// SQLite storage of the central service: every accepted event once, and the hits raised from them.
// The schema is versioned with PRAGMA user_version; the service decides what to store.
import Database from 'better-sqlite3';
import type { Evidence, PatrolEvent } from '../protocol/event.js';
import type { Hit, HitKind, HitLatency, HitMatched, MatchKind } from './hit.js';

/** Schema steps in order; step i brings the database from user_version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    car_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    camera_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    frame_received_at_ms REAL NOT NULL,
    analysed_at_ms REAL NOT NULL,
    committed_at_ms REAL NOT NULL,
    clock_offset_ms REAL,
    central_received_at_ms REAL NOT NULL,
    payload_json TEXT NOT NULL,
    UNIQUE (car_id, seq)
  );
  CREATE INDEX events_by_received_at ON events (central_received_at_ms);

  CREATE TABLE hits (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('plate', 'face')),
    car_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    match_key TEXT NOT NULL,
    matched_json TEXT NOT NULL,
    match_kind TEXT NOT NULL CHECK (match_kind IN ('exact', 'cosine')),
    score REAL NOT NULL,
    evidence_json TEXT NOT NULL,
    frame_received_at_ms REAL NOT NULL,
    central_received_at_ms REAL NOT NULL,
    frame_to_hit_ms REAL NOT NULL,
    queue_ms REAL NOT NULL,
    inference_ms REAL NOT NULL,
    outbox_ms REAL NOT NULL,
    uplink_ms REAL NOT NULL,
    central_ms REAL NOT NULL,
    created_at_ms REAL NOT NULL,
    repeat_count INTEGER NOT NULL DEFAULT 0,
    last_seen_at_ms REAL NOT NULL,
    last_seq INTEGER NOT NULL
  );
  CREATE INDEX hits_by_car_and_match ON hits (car_id, match_key, last_seen_at_ms);
  CREATE INDEX hits_by_created_at ON hits (created_at_ms);
  `,
];

export const STORE_SCHEMA_VERSION = MIGRATIONS.length;

/** A stored hit with its repeat bookkeeping. */
export interface StoredHit extends Hit {
  matchKey: string;
  /** How many later matches of the same entry from the same car were folded into this hit. */
  repeatCount: number;
  /** Latest central time at which this entry was matched for this car. */
  lastSeenAtMs: number;
  /** Seq of the event folded in most recently (the hit's own seq until the first repeat). */
  lastSeq: number;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: 'STORE_SCHEMA_TOO_NEW' | 'STORE_OPEN_FAILED' | 'STORE_HIT_NOT_FOUND',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface HitRow {
  id: string;
  kind: HitKind;
  car_id: string;
  camera_id: string;
  seq: number;
  match_key: string;
  matched_json: string;
  match_kind: MatchKind;
  score: number;
  evidence_json: string;
  frame_received_at_ms: number;
  central_received_at_ms: number;
  frame_to_hit_ms: number;
  queue_ms: number;
  inference_ms: number;
  outbox_ms: number;
  uplink_ms: number;
  central_ms: number;
  created_at_ms: number;
  repeat_count: number;
  last_seen_at_ms: number;
  last_seq: number;
}

export class CentralStore {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;

  /** Opens or creates the database at filePath (":memory:" for a throw-away one) and migrates it. */
  constructor(filePath: string) {
    try {
      this.db = new Database(filePath);
    } catch (error) {
      throw new StoreError('STORE_OPEN_FAILED', `could not open database ${filePath}: ${(error as Error).message}; check the path and its permissions`, { cause: error });
    }
    this.db.pragma('journal_mode = WAL');
    // FULL makes each commit durable before the service acknowledges the MQTT message.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db, filePath);
    this.statements = prepareStatements(this.db);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Runs fn in one transaction, so an event and the hit raised from it are stored together or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Stores an event; returns false when the same (carId, seq) is already stored. */
  insertEvent(event: PatrolEvent, centralReceivedAtMs: number): boolean {
    const result = this.statements.insertEvent.run({
      carId: event.carId,
      seq: event.seq,
      cameraId: event.cameraId,
      kind: event.kind,
      frameReceivedAtMs: event.frameReceivedAtMs,
      analysedAtMs: event.analysedAtMs,
      committedAtMs: event.committedAtMs,
      clockOffsetMs: event.clockOffsetMs,
      centralReceivedAtMs,
      payloadJson: JSON.stringify(event),
    });
    return result.changes === 1;
  }

  /** Returns the stored event, or null. */
  getEvent(carId: string, seq: number): PatrolEvent | null {
    const row = this.statements.getEvent.get(carId, seq) as { payload_json: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.payload_json) as PatrolEvent);
  }

  countEvents(carId: string): number {
    return (this.statements.countEvents.get(carId) as { count: number }).count;
  }

  insertHit(hit: Hit, matchKey: string): void {
    this.statements.insertHit.run(hitToRow(hit, matchKey));
  }

  /** Returns the latest hit for this car and matched entry last seen at or after sinceMs, or null. */
  findRecentHit(carId: string, matchKey: string, sinceMs: number): StoredHit | null {
    const row = this.statements.findRecentHit.get(carId, matchKey, sinceMs) as HitRow | undefined;
    return row === undefined ? null : rowToHit(row);
  }

  /** Folds a repeat into a hit; returns the new repeat count. */
  recordRepeat(hitId: string, seenAtMs: number, seq: number): number {
    const row = this.statements.recordRepeat.get(seenAtMs, seq, hitId) as { repeat_count: number } | undefined;
    if (row === undefined) throw new StoreError('STORE_HIT_NOT_FOUND', `hit ${hitId} not found while recording a repeat`);
    return row.repeat_count;
  }

  getHit(hitId: string): StoredHit | null {
    const row = this.statements.getHit.get(hitId) as HitRow | undefined;
    return row === undefined ? null : rowToHit(row);
  }

  /** Returns the hits of one car, oldest first. */
  listHitsForCar(carId: string): StoredHit[] {
    return (this.statements.listHitsForCar.all(carId) as HitRow[]).map(rowToHit);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database, filePath: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `database ${filePath} has schema version ${version}, newer than the ${MIGRATIONS.length} this build knows; run a newer build or another database`,
    );
  }
  for (let step = version; step < MIGRATIONS.length; step++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[step]!);
      db.pragma(`user_version = ${step + 1}`);
    })();
  }
}

function prepareStatements(db: Database.Database) {
  return {
    insertEvent: db.prepare(`
      INSERT INTO events (car_id, seq, camera_id, kind, frame_received_at_ms, analysed_at_ms, committed_at_ms,
                          clock_offset_ms, central_received_at_ms, payload_json)
      VALUES (@carId, @seq, @cameraId, @kind, @frameReceivedAtMs, @analysedAtMs, @committedAtMs,
              @clockOffsetMs, @centralReceivedAtMs, @payloadJson)
      ON CONFLICT (car_id, seq) DO NOTHING`),
    getEvent: db.prepare('SELECT payload_json FROM events WHERE car_id = ? AND seq = ?'),
    countEvents: db.prepare('SELECT COUNT(*) AS count FROM events WHERE car_id = ?'),
    insertHit: db.prepare(`
      INSERT INTO hits (id, kind, car_id, camera_id, seq, match_key, matched_json, match_kind, score, evidence_json,
                        frame_received_at_ms, central_received_at_ms, frame_to_hit_ms, queue_ms, inference_ms,
                        outbox_ms, uplink_ms, central_ms, created_at_ms, repeat_count, last_seen_at_ms, last_seq)
      VALUES (@id, @kind, @car_id, @camera_id, @seq, @match_key, @matched_json, @match_kind, @score, @evidence_json,
              @frame_received_at_ms, @central_received_at_ms, @frame_to_hit_ms, @queue_ms, @inference_ms,
              @outbox_ms, @uplink_ms, @central_ms, @created_at_ms, @repeat_count, @last_seen_at_ms, @last_seq)`),
    findRecentHit: db.prepare(`
      SELECT * FROM hits WHERE car_id = ? AND match_key = ? AND last_seen_at_ms >= ?
      ORDER BY last_seen_at_ms DESC LIMIT 1`),
    recordRepeat: db.prepare(`
      UPDATE hits SET repeat_count = repeat_count + 1, last_seen_at_ms = MAX(last_seen_at_ms, ?), last_seq = ?
      WHERE id = ? RETURNING repeat_count`),
    getHit: db.prepare('SELECT * FROM hits WHERE id = ?'),
    listHitsForCar: db.prepare('SELECT * FROM hits WHERE car_id = ? ORDER BY created_at_ms, rowid'),
  };
}

function hitToRow(hit: Hit, matchKey: string): HitRow {
  const latency: HitLatency = hit.latency;
  return {
    id: hit.hitId,
    kind: hit.kind,
    car_id: hit.carId,
    camera_id: hit.cameraId,
    seq: hit.seq,
    match_key: matchKey,
    matched_json: JSON.stringify(hit.matched),
    match_kind: hit.matchKind,
    score: hit.score,
    evidence_json: JSON.stringify(hit.evidence),
    frame_received_at_ms: hit.frameReceivedAtMs,
    central_received_at_ms: hit.centralReceivedAtMs,
    frame_to_hit_ms: latency.frameToHitMs,
    queue_ms: latency.queueMs,
    inference_ms: latency.inferenceMs,
    outbox_ms: latency.outboxMs,
    uplink_ms: latency.uplinkMs,
    central_ms: latency.centralMs,
    created_at_ms: hit.hitAtMs,
    repeat_count: 0,
    last_seen_at_ms: hit.hitAtMs,
    last_seq: hit.seq,
  };
}

function rowToHit(row: HitRow): StoredHit {
  return {
    hitId: row.id,
    kind: row.kind,
    carId: row.car_id,
    cameraId: row.camera_id,
    seq: row.seq,
    matched: JSON.parse(row.matched_json) as HitMatched,
    matchKind: row.match_kind,
    score: row.score,
    evidence: JSON.parse(row.evidence_json) as Evidence[],
    position: null,
    frameReceivedAtMs: row.frame_received_at_ms,
    centralReceivedAtMs: row.central_received_at_ms,
    hitAtMs: row.created_at_ms,
    latency: {
      frameToHitMs: row.frame_to_hit_ms,
      queueMs: row.queue_ms,
      inferenceMs: row.inference_ms,
      outboxMs: row.outbox_ms,
      uplinkMs: row.uplink_ms,
      centralMs: row.central_ms,
    },
    matchKey: row.match_key,
    repeatCount: row.repeat_count,
    lastSeenAtMs: row.last_seen_at_ms,
    lastSeq: row.last_seq,
  };
}
