// SQLite schema steps of the central store, applied in order; step i brings a database from
// PRAGMA user_version i to i + 1. Never edit a released step: add a new one.

const V1_EVENTS_AND_HITS = `
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
`;

/**
 * Search columns on events, hits with tolerant matches, decisions and position (SQLite cannot change
 * a CHECK constraint, so the hits table is rebuilt), and the fleet, list, user and audit tables.
 */
const V2_FLEET_LISTS_USERS_AUDIT = `
  ALTER TABLE events ADD COLUMN frame_at_ms REAL;
  ALTER TABLE events ADD COLUMN plate_text TEXT;
  ALTER TABLE events ADD COLUMN hit_id TEXT;
  ALTER TABLE events ADD COLUMN evidence_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE events ADD COLUMN position_json TEXT;
  UPDATE events SET
    frame_at_ms = frame_received_at_ms + COALESCE(clock_offset_ms, 0),
    plate_text = json_extract(payload_json, '$.plate.text'),
    evidence_count = json_array_length(payload_json, '$.evidence');
  CREATE INDEX events_by_frame_at ON events (frame_at_ms);
  CREATE INDEX events_by_car_and_frame_at ON events (car_id, frame_at_ms);
  CREATE INDEX events_by_plate ON events (plate_text, frame_at_ms) WHERE plate_text IS NOT NULL;

  CREATE TABLE hits_v2 (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('plate', 'face')),
    car_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    match_key TEXT NOT NULL,
    matched_json TEXT NOT NULL,
    match_kind TEXT NOT NULL CHECK (match_kind IN ('exact', 'tolerant', 'cosine')),
    plate TEXT,
    read_plate TEXT,
    subject_id TEXT,
    score REAL NOT NULL,
    evidence_json TEXT NOT NULL,
    position_json TEXT,
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
    last_seq INTEGER NOT NULL,
    decision TEXT CHECK (decision IN ('confirmed', 'dismissed')),
    decision_reason TEXT,
    decided_by TEXT,
    decided_at_ms REAL
  );
  INSERT INTO hits_v2 (id, kind, car_id, camera_id, seq, match_key, matched_json, match_kind, plate, read_plate, subject_id,
                       score, evidence_json, frame_received_at_ms, central_received_at_ms, frame_to_hit_ms, queue_ms,
                       inference_ms, outbox_ms, uplink_ms, central_ms, created_at_ms, repeat_count, last_seen_at_ms, last_seq)
    SELECT id, kind, car_id, camera_id, seq, match_key, matched_json, match_kind, json_extract(matched_json, '$.plate'),
           json_extract(matched_json, '$.plate'), json_extract(matched_json, '$.subjectId'), score, evidence_json,
           frame_received_at_ms, central_received_at_ms, frame_to_hit_ms, queue_ms, inference_ms, outbox_ms, uplink_ms,
           central_ms, created_at_ms, repeat_count, last_seen_at_ms, last_seq
    FROM hits;
  DROP TABLE hits;
  ALTER TABLE hits_v2 RENAME TO hits;
  CREATE INDEX hits_by_car_and_match ON hits (car_id, match_key, last_seen_at_ms);
  CREATE INDEX hits_by_created_at ON hits (created_at_ms);
  CREATE INDEX hits_by_plate ON hits (plate, created_at_ms) WHERE plate IS NOT NULL;
  CREATE INDEX hits_by_read_plate ON hits (read_plate, created_at_ms) WHERE read_plate IS NOT NULL;
  CREATE INDEX hits_by_subject ON hits (subject_id, created_at_ms) WHERE subject_id IS NOT NULL;
  UPDATE events SET hit_id = (SELECT hits.id FROM hits WHERE hits.car_id = events.car_id AND hits.seq = events.seq);

  CREATE TABLE cars (
    car_id TEXT PRIMARY KEY,
    last_event_at_ms REAL,
    last_status_at_ms REAL,
    clock_offset_ms REAL,
    cameras_json TEXT NOT NULL DEFAULT '[]',
    analysed_fps REAL,
    outbox_backlog INTEGER
  );
  INSERT INTO cars (car_id, last_event_at_ms)
    SELECT car_id, MAX(central_received_at_ms) FROM events GROUP BY car_id;

  CREATE TABLE list_versions (list TEXT PRIMARY KEY, version INTEGER NOT NULL);
  INSERT INTO list_versions (list, version) VALUES ('hotlist', 0), ('watchlist', 0);
  CREATE TABLE list_changes (
    list TEXT NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'remove')),
    key TEXT NOT NULL,
    at_ms REAL NOT NULL,
    PRIMARY KEY (list, version, key)
  );

  CREATE TABLE hotlist_entries (
    plate TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    expires_at_ms REAL,
    source TEXT NOT NULL CHECK (source IN ('config', 'operator')),
    added_by TEXT NOT NULL,
    added_at_ms REAL NOT NULL
  );
  CREATE TABLE face_lists (list_id TEXT PRIMARY KEY, threshold REAL NOT NULL);
  CREATE TABLE subjects (
    subject_id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL REFERENCES face_lists (list_id),
    label TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    embeddings BLOB NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('config', 'operator')),
    enrolled_by TEXT NOT NULL,
    enrolled_at_ms REAL NOT NULL
  );
  CREATE TABLE face_negatives (
    subject_id TEXT NOT NULL,
    hit_id TEXT NOT NULL,
    embedding BLOB NOT NULL,
    at_ms REAL NOT NULL,
    PRIMARY KEY (subject_id, hit_id)
  );

  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'administrator')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at_ms REAL NOT NULL,
    updated_at_ms REAL NOT NULL
  );

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    reason TEXT,
    details_json TEXT
  );
  CREATE INDEX audit_by_at ON audit_log (at_ms);
  CREATE INDEX audit_by_actor ON audit_log (actor, id);
  CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
`;

/**
 * Command-centre login sessions, so they survive a restart. A row is keyed by the SHA-256 of the
 * cookie token (base64url), never the token itself, so reading the table does not yield a usable cookie.
 */
const V3_WEB_SESSIONS = `
  CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'administrator')),
    csrf_token TEXT NOT NULL,
    created_at_ms REAL NOT NULL,
    last_seen_at_ms REAL NOT NULL
  );
  CREATE INDEX web_sessions_by_username ON web_sessions (username);
`;

export const SQLITE_MIGRATIONS: readonly string[] = [V1_EVENTS_AND_HITS, V2_FLEET_LISTS_USERS_AUDIT, V3_WEB_SESSIONS];
