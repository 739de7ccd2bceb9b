// PostgreSQL schema steps of the central store, applied in order inside one transaction each; the
// schema_migrations table records the version. Never edit a released step: add a new one.

const V1_INITIAL = `
  CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    car_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    camera_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    frame_received_at_ms DOUBLE PRECISION NOT NULL,
    analysed_at_ms DOUBLE PRECISION NOT NULL,
    committed_at_ms DOUBLE PRECISION NOT NULL,
    clock_offset_ms DOUBLE PRECISION,
    central_received_at_ms DOUBLE PRECISION NOT NULL,
    frame_at_ms DOUBLE PRECISION NOT NULL,
    plate_text TEXT,
    hit_id TEXT,
    evidence_count INTEGER NOT NULL DEFAULT 0,
    position_json TEXT,
    payload_json TEXT NOT NULL,
    UNIQUE (car_id, seq)
  );
  CREATE INDEX events_by_received_at ON events (kind, central_received_at_ms);
  CREATE INDEX events_by_frame_at ON events (frame_at_ms);
  CREATE INDEX events_by_car_and_frame_at ON events (car_id, frame_at_ms);
  CREATE INDEX events_by_plate ON events (plate_text text_pattern_ops, frame_at_ms) WHERE plate_text IS NOT NULL;

  CREATE TABLE hits (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('plate', 'face')),
    car_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    match_key TEXT NOT NULL,
    matched_json TEXT NOT NULL,
    match_kind TEXT NOT NULL CHECK (match_kind IN ('exact', 'tolerant', 'cosine')),
    plate TEXT,
    read_plate TEXT,
    subject_id TEXT,
    score DOUBLE PRECISION NOT NULL,
    evidence_json TEXT NOT NULL,
    position_json TEXT,
    frame_received_at_ms DOUBLE PRECISION NOT NULL,
    central_received_at_ms DOUBLE PRECISION NOT NULL,
    frame_to_hit_ms DOUBLE PRECISION NOT NULL,
    queue_ms DOUBLE PRECISION NOT NULL,
    inference_ms DOUBLE PRECISION NOT NULL,
    outbox_ms DOUBLE PRECISION NOT NULL,
    uplink_ms DOUBLE PRECISION NOT NULL,
    central_ms DOUBLE PRECISION NOT NULL,
    created_at_ms DOUBLE PRECISION NOT NULL,
    repeat_count INTEGER NOT NULL DEFAULT 0,
    last_seen_at_ms DOUBLE PRECISION NOT NULL,
    last_seq BIGINT NOT NULL,
    decision TEXT CHECK (decision IN ('confirmed', 'dismissed')),
    decision_reason TEXT,
    decided_by TEXT,
    decided_at_ms DOUBLE PRECISION
  );
  CREATE INDEX hits_by_car_and_match ON hits (car_id, match_key, last_seen_at_ms);
  CREATE INDEX hits_by_created_at ON hits (created_at_ms);
  CREATE INDEX hits_by_plate ON hits (plate, created_at_ms) WHERE plate IS NOT NULL;
  CREATE INDEX hits_by_read_plate ON hits (read_plate, created_at_ms) WHERE read_plate IS NOT NULL;
  CREATE INDEX hits_by_subject ON hits (subject_id, created_at_ms) WHERE subject_id IS NOT NULL;

  CREATE TABLE cars (
    car_id TEXT PRIMARY KEY,
    last_event_at_ms DOUBLE PRECISION,
    last_status_at_ms DOUBLE PRECISION,
    clock_offset_ms DOUBLE PRECISION,
    cameras_json TEXT NOT NULL DEFAULT '[]',
    analysed_fps DOUBLE PRECISION,
    outbox_backlog INTEGER
  );

  CREATE TABLE list_versions (list TEXT PRIMARY KEY, version INTEGER NOT NULL);
  INSERT INTO list_versions (list, version) VALUES ('hotlist', 0), ('watchlist', 0);
  CREATE TABLE list_changes (
    list TEXT NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'remove')),
    key TEXT NOT NULL,
    at_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (list, version, key)
  );

  CREATE TABLE hotlist_entries (
    plate TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    expires_at_ms DOUBLE PRECISION,
    source TEXT NOT NULL CHECK (source IN ('config', 'operator')),
    added_by TEXT NOT NULL,
    added_at_ms DOUBLE PRECISION NOT NULL
  );
  CREATE TABLE face_lists (list_id TEXT PRIMARY KEY, threshold DOUBLE PRECISION NOT NULL);
  CREATE TABLE subjects (
    subject_id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL REFERENCES face_lists (list_id),
    label TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    embeddings BYTEA NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('config', 'operator')),
    enrolled_by TEXT NOT NULL,
    enrolled_at_ms DOUBLE PRECISION NOT NULL
  );
  CREATE TABLE face_negatives (
    subject_id TEXT NOT NULL,
    hit_id TEXT NOT NULL,
    embedding BYTEA NOT NULL,
    at_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (subject_id, hit_id)
  );

  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'administrator')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms DOUBLE PRECISION NOT NULL,
    updated_at_ms DOUBLE PRECISION NOT NULL
  );

  CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at_ms DOUBLE PRECISION NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    reason TEXT,
    details_json TEXT
  );
  CREATE INDEX audit_by_at ON audit_log (at_ms);
  CREATE INDEX audit_by_actor ON audit_log (actor, id);
  CREATE FUNCTION audit_log_reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
  CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_update();
`;

/**
 * Command-centre login sessions, so they survive a restart. A row is keyed by the SHA-256 of the
 * cookie token (base64url), never the token itself, so reading the table does not yield a usable cookie.
 */
const V2_WEB_SESSIONS = `
  CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'administrator')),
    csrf_token TEXT NOT NULL,
    created_at_ms DOUBLE PRECISION NOT NULL,
    last_seen_at_ms DOUBLE PRECISION NOT NULL
  );
  CREATE INDEX web_sessions_by_username ON web_sessions (username);
`;

export const POSTGRES_MIGRATIONS: readonly string[] = [V1_INITIAL, V2_WEB_SESSIONS];
