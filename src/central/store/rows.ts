// Row shapes and conversions shared by the SQLite and PostgreSQL stores: hits, events, cars, users,
// login sessions, audit entries, embeddings as float32 bytes, and the WHERE clauses of the searches.
import type { Evidence, PatrolEvent, Position } from '../../protocol/event.js';
import type { CameraStatus } from '../../protocol/status.js';
import type { Hit, HitKind, HitMatched, MatchKind } from '../hit.js';
import {
  queryLimit,
  type AuditEntry,
  type AuditQuery,
  type CarStatus,
  type EventQuery,
  type EventSummary,
  type HitDecisionKind,
  type HitQuery,
  type StoredHit,
  type StoredHotlistEntry,
  type StoredSubject,
  type StoredWebSession,
  type User,
  type UserRole,
} from './store.js';

export interface HitRow {
  id: string;
  kind: HitKind;
  car_id: string;
  camera_id: string;
  seq: number;
  match_key: string;
  matched_json: string;
  match_kind: MatchKind;
  plate: string | null;
  read_plate: string | null;
  subject_id: string | null;
  score: number;
  evidence_json: string;
  position_json: string | null;
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
  decision: HitDecisionKind | null;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at_ms: number | null;
}

/** Columns of a new hit row, in the order of HIT_INSERT_COLUMNS. */
export const HIT_INSERT_COLUMNS = [
  'id', 'kind', 'car_id', 'camera_id', 'seq', 'match_key', 'matched_json', 'match_kind', 'plate', 'read_plate', 'subject_id',
  'score', 'evidence_json', 'position_json', 'frame_received_at_ms', 'central_received_at_ms', 'frame_to_hit_ms', 'queue_ms',
  'inference_ms', 'outbox_ms', 'uplink_ms', 'central_ms', 'created_at_ms', 'repeat_count', 'last_seen_at_ms', 'last_seq',
] as const;

export function hitInsertValues(hit: Hit, matchKey: string): unknown[] {
  const { latency } = hit;
  return [
    hit.hitId, hit.kind, hit.carId, hit.cameraId, hit.seq, matchKey, JSON.stringify(hit.matched), hit.matchKind,
    hit.matched.plate ?? null, hit.matched.readPlate ?? null, hit.matched.subjectId ?? null, hit.score,
    JSON.stringify(hit.evidence), hit.position === null ? null : JSON.stringify(hit.position), hit.frameReceivedAtMs,
    hit.centralReceivedAtMs, latency.frameToHitMs, latency.queueMs, latency.inferenceMs, latency.outboxMs, latency.uplinkMs,
    latency.centralMs, hit.hitAtMs, 0, hit.hitAtMs, hit.seq,
  ];
}

export function rowToHit(row: HitRow): StoredHit {
  return {
    hitId: row.id,
    kind: row.kind,
    carId: row.car_id,
    cameraId: row.camera_id,
    seq: Number(row.seq),
    matched: JSON.parse(row.matched_json) as HitMatched,
    matchKind: row.match_kind,
    score: row.score,
    evidence: JSON.parse(row.evidence_json) as Evidence[],
    position: row.position_json === null ? null : (JSON.parse(row.position_json) as Position),
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
    lastSeq: Number(row.last_seq),
    decision:
      row.decision === null
        ? null
        : { decision: row.decision, reason: row.decision_reason ?? '', decidedBy: row.decided_by ?? '', decidedAtMs: row.decided_at_ms ?? 0 },
  };
}

/** Columns of a new event row, in order. */
export const EVENT_INSERT_COLUMNS = [
  'car_id', 'seq', 'camera_id', 'kind', 'frame_received_at_ms', 'analysed_at_ms', 'committed_at_ms', 'clock_offset_ms',
  'central_received_at_ms', 'frame_at_ms', 'plate_text', 'evidence_count', 'position_json', 'payload_json',
] as const;

/** Values for EVENT_INSERT_COLUMNS; frame_at_ms is the frame time corrected to the central clock. */
export function eventInsertValues(event: PatrolEvent, receivedAtMs: number, clockOffsetMs: number | null, plateText: string | null): unknown[] {
  return [
    event.carId, event.seq, event.cameraId, event.kind, event.frameReceivedAtMs, event.analysedAtMs, event.committedAtMs,
    event.clockOffsetMs, receivedAtMs, event.frameReceivedAtMs + (clockOffsetMs ?? 0), plateText, event.evidence.length,
    event.position === undefined ? null : JSON.stringify(event.position), JSON.stringify(event),
  ];
}

export interface EventSummaryRow {
  car_id: string;
  seq: number;
  camera_id: string;
  kind: PatrolEvent['kind'];
  frame_at_ms: number;
  central_received_at_ms: number;
  plate_text: string | null;
  evidence_count: number;
  hit_id: string | null;
  position_json: string | null;
}

export const EVENT_SUMMARY_COLUMNS = 'car_id, seq, camera_id, kind, frame_at_ms, central_received_at_ms, plate_text, evidence_count, hit_id, position_json';

export function rowToEventSummary(row: EventSummaryRow): EventSummary {
  return {
    carId: row.car_id,
    seq: Number(row.seq),
    cameraId: row.camera_id,
    kind: row.kind,
    frameAtMs: row.frame_at_ms,
    receivedAtMs: row.central_received_at_ms,
    plateText: row.plate_text,
    evidenceCount: row.evidence_count,
    hitId: row.hit_id,
    position: row.position_json === null ? null : (JSON.parse(row.position_json) as Position),
  };
}

export interface CarRow {
  car_id: string;
  last_event_at_ms: number | null;
  last_status_at_ms: number | null;
  clock_offset_ms: number | null;
  cameras_json: string;
  analysed_fps: number | null;
  outbox_backlog: number | null;
}

export function rowToCarStatus(row: CarRow): CarStatus {
  return {
    carId: row.car_id,
    lastContactAtMs: Math.max(row.last_event_at_ms ?? 0, row.last_status_at_ms ?? 0),
    lastEventAtMs: row.last_event_at_ms,
    lastStatusAtMs: row.last_status_at_ms,
    clockOffsetMs: row.clock_offset_ms,
    cameras: JSON.parse(row.cameras_json) as CameraStatus[],
    analysedFps: row.analysed_fps,
    outboxBacklog: row.outbox_backlog,
  };
}

export interface UserRow {
  username: string;
  role: UserRole;
  password_hash: string;
  disabled: number | boolean;
  created_at_ms: number;
  updated_at_ms: number;
}

export function rowToUser(row: UserRow): User {
  return {
    username: row.username,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: Boolean(row.disabled),
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export interface WebSessionRow {
  token_sha256: string;
  username: string;
  role: UserRole;
  csrf_token: string;
  created_at_ms: number;
  last_seen_at_ms: number;
}

export function rowToWebSession(row: WebSessionRow): StoredWebSession {
  return {
    tokenSha256: row.token_sha256,
    username: row.username,
    role: row.role,
    csrfToken: row.csrf_token,
    createdAtMs: row.created_at_ms,
    lastSeenAtMs: row.last_seen_at_ms,
  };
}

export interface AuditRow {
  id: number;
  at_ms: number;
  actor: string;
  action: string;
  target: string | null;
  reason: string | null;
  details_json: string | null;
}

export function rowToAudit(row: AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    atMs: row.at_ms,
    actor: row.actor,
    action: row.action,
    target: row.target,
    reason: row.reason,
    details: row.details_json === null ? null : (JSON.parse(row.details_json) as Record<string, unknown>),
  };
}

export interface HotlistRow {
  plate: string;
  reason: string;
  priority: number;
  expires_at_ms: number | null;
  source: 'config' | 'operator';
  added_by: string;
  added_at_ms: number;
}

export function rowToHotlistEntry(row: HotlistRow): StoredHotlistEntry {
  return { plate: row.plate, reason: row.reason, priority: row.priority, expiresAtMs: row.expires_at_ms, source: row.source, addedBy: row.added_by, addedAtMs: row.added_at_ms };
}

export interface SubjectRow {
  subject_id: string;
  list_id: string;
  label: string;
  dimension: number;
  embeddings: Buffer;
  source: 'config' | 'operator';
  enrolled_by: string;
  enrolled_at_ms: number;
}

export function rowToSubject(row: SubjectRow): StoredSubject {
  return {
    subjectId: row.subject_id,
    listId: row.list_id,
    label: row.label,
    embeddings: bytesToEmbeddings(row.embeddings, row.dimension),
    source: row.source,
    enrolledBy: row.enrolled_by,
    enrolledAtMs: row.enrolled_at_ms,
  };
}

/** Packs embeddings of one dimension into little-endian float32 bytes, one after another. */
export function embeddingsToBytes(embeddings: readonly Float32Array[]): Buffer {
  const dimension = embeddings[0]?.length ?? 0;
  const packed = new Float32Array(embeddings.length * dimension);
  embeddings.forEach((embedding, index) => packed.set(embedding, index * dimension));
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}

export function bytesToEmbeddings(bytes: Uint8Array, dimension: number): Float32Array[] {
  // Copy first: a Float32Array view needs a 4-byte aligned offset, which driver buffers do not promise.
  const floats = new Float32Array(new Uint8Array(bytes).buffer);
  const embeddings: Float32Array[] = [];
  for (let offset = 0; offset + dimension <= floats.length && dimension > 0; offset += dimension) {
    embeddings.push(floats.slice(offset, offset + dimension));
  }
  return embeddings;
}

/** A WHERE clause and its parameters; `placeholder(n)` writes the n-th (1-based) parameter marker. */
export interface Filter {
  where: string;
  params: unknown[];
}

export type Placeholder = (position: number) => string;

class FilterBuilder {
  private readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  constructor(private readonly placeholder: Placeholder) {}

  /** Adds a clause where each `?` is replaced by the next parameter marker. */
  add(clause: string, ...values: unknown[]): void {
    let text = clause;
    for (const value of values) {
      this.params.push(value);
      text = text.replace('?', this.placeholder(this.params.length));
    }
    this.clauses.push(text);
  }

  build(): Filter {
    return { where: this.clauses.length === 0 ? '' : `WHERE ${this.clauses.join(' AND ')}`, params: this.params };
  }
}

export function hitFilter(query: HitQuery, placeholder: Placeholder): Filter & { limit: number } {
  const filter = new FilterBuilder(placeholder);
  if (query.kind !== undefined) filter.add('kind = ?', query.kind);
  if (query.carId !== undefined) filter.add('car_id = ?', query.carId);
  if (query.plate !== undefined) filter.add('(plate = ? OR read_plate = ?)', query.plate, query.plate);
  if (query.subjectId !== undefined) filter.add('subject_id = ?', query.subjectId);
  if (query.fromMs !== undefined) filter.add('created_at_ms >= ?', query.fromMs);
  if (query.toMs !== undefined) filter.add('created_at_ms <= ?', query.toMs);
  if (query.decision === 'open') filter.add('decision IS NULL');
  else if (query.decision !== undefined) filter.add('decision = ?', query.decision);
  return { ...filter.build(), limit: queryLimit(query.limit) };
}

export function eventFilter(query: EventQuery, placeholder: Placeholder): Filter & { limit: number } {
  const filter = new FilterBuilder(placeholder);
  if (query.kind !== undefined) filter.add('kind = ?', query.kind);
  if (query.carId !== undefined) filter.add('car_id = ?', query.carId);
  if (query.plate !== undefined) filter.add('plate_text = ?', query.plate);
  if (query.platePrefix !== undefined) {
    // LIKE wildcards in the prefix are escaped, so a prefix matches only literally.
    filter.add("plate_text LIKE ? ESCAPE '\\'", `${query.platePrefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
  }
  if (query.fromMs !== undefined) filter.add('frame_at_ms >= ?', query.fromMs);
  if (query.toMs !== undefined) filter.add('frame_at_ms <= ?', query.toMs);
  return { ...filter.build(), limit: queryLimit(query.limit) };
}

export function auditFilter(query: AuditQuery, placeholder: Placeholder): Filter & { limit: number } {
  const filter = new FilterBuilder(placeholder);
  if (query.beforeId !== undefined) filter.add('id < ?', query.beforeId);
  if (query.actor !== undefined) filter.add('actor = ?', query.actor);
  if (query.action !== undefined) filter.add('action = ?', query.action);
  if (query.target !== undefined) filter.add('target = ?', query.target);
  if (query.fromMs !== undefined) filter.add('at_ms >= ?', query.fromMs);
  if (query.toMs !== undefined) filter.add('at_ms <= ?', query.toMs);
  return { ...filter.build(), limit: queryLimit(query.limit) };
}
