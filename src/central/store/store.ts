// The central service's storage interface, implemented by SQLite (sqlite-store.ts, the default) and
// PostgreSQL (postgres-store.ts, for fleets). Every method is async and atomic; schemas live in migrations/.
import type { CarStatusMessage, CameraStatus } from '../../protocol/status.js';
import type { PatrolEvent, Position } from '../../protocol/event.js';
import type { Hit, HitCandidate, HitKind } from '../hit.js';

export type StoreBackend = 'sqlite' | 'postgres';

export type HitDecisionKind = 'confirmed' | 'dismissed';

/** An operator's decision on a hit. */
export interface HitDecision {
  decision: HitDecisionKind;
  reason: string;
  /** Username of the operator. */
  decidedBy: string;
  /** Central clock, ms since the epoch. */
  decidedAtMs: number;
}

/** A stored hit with its repeat bookkeeping and the latest operator decision. */
export interface StoredHit extends Hit {
  matchKey: string;
  /** How many later matches of the same entry from the same car were folded into this hit. */
  repeatCount: number;
  /** Latest central time at which this entry was matched for this car. */
  lastSeenAtMs: number;
  /** Seq of the event folded in most recently (the hit's own seq until the first repeat). */
  lastSeq: number;
  /** The operator's decision, or null while the hit is open. */
  decision: HitDecision | null;
}

/** Everything recordEvent needs to store one accepted event and fold or raise its hit atomically. */
export interface RecordEventInput {
  event: PatrolEvent;
  /** Central clock when the message arrived. */
  receivedAtMs: number;
  /** Central minus car clock used to correct the event's times: its own, else the car's last reported, else null (no correction). */
  clockOffsetMs: number | null;
  /** Match found for the event, or null. */
  candidate: HitCandidate | null;
  /** Central clock at which a hit is raised or a repeat recorded. */
  hitAtMs: number;
  /** Window in which a match of the same entry from the same car folds into the earlier hit. */
  cooldownMs: number;
  /** Id for the hit, used only when a new hit is raised. */
  newHitId: string;
}

/** A match folded into an earlier hit of the same entry from the same car. */
export interface HitRepeat {
  hitId: string;
  kind: HitKind;
  carId: string;
  cameraId: string;
  seq: number;
  score: number;
  repeatCount: number;
  lastSeenAtMs: number;
}

export type RecordEventOutcome =
  | { duplicate: true }
  | { duplicate: false; hit: Hit | null; repeat: HitRepeat | null };

/** One stored event without its payload; getEvent returns the payload. */
export interface EventSummary {
  carId: string;
  seq: number;
  cameraId: string;
  kind: PatrolEvent['kind'];
  /** Frame time on the central clock: the car's frame time corrected by its clock offset. */
  frameAtMs: number;
  /** Central clock when the event arrived. */
  receivedAtMs: number;
  /** Normalised plate text of a plate event, otherwise null. */
  plateText: string | null;
  evidenceCount: number;
  /** Hit raised from this event, or null (repeats folded into an earlier hit are not linked). */
  hitId: string | null;
  position: Position | null;
}

/** Filters for searchEvents; all optional and combined with AND. Results are newest first. */
export interface EventQuery {
  kind?: PatrolEvent['kind'];
  carId?: string;
  /** Normalised plate text (see normalisePlateText); matches plate events read as exactly this text. */
  plate?: string;
  /** Normalised start of a plate text; matches plate events whose reading starts with it. */
  platePrefix?: string;
  /** Inclusive bounds on frameAtMs. */
  fromMs?: number;
  toMs?: number;
  /** 1-1000, default 100. */
  limit?: number;
}

/** Filters for searchHits; all optional and combined with AND. Results are newest first. */
export interface HitQuery {
  kind?: HitKind;
  carId?: string;
  /** Normalised plate text: matches the hotlist entry's plate or the plate as read. */
  plate?: string;
  subjectId?: string;
  /** Inclusive bounds on hitAtMs. */
  fromMs?: number;
  toMs?: number;
  /** 'open' selects hits without a decision. */
  decision?: HitDecisionKind | 'open';
  /** 1-1000, default 100. */
  limit?: number;
}

/** A dismissed face kept so the same stranger does not raise the same false hit again. */
export interface FaceNegative {
  subjectId: string;
  embedding: Float32Array;
  /** The dismissed hit the face came from. */
  hitId: string;
  atMs: number;
}

export interface DecideHitInput extends HitDecision {
  hitId: string;

  /** Stored in the same transaction as the decision (face hits being dismissed). */
  faceNegative?: FaceNegative;
}

/** Fleet status of one car, from its events and status messages. */
export interface CarStatus {
  carId: string;
  /** Latest central time at which anything arrived from the car. */
  lastContactAtMs: number;
  lastEventAtMs: number | null;
  lastStatusAtMs: number | null;
  /** Latest clock offset the car reported (central minus car, ms), or null. */
  clockOffsetMs: number | null;
  /** From the latest status message; empty when the car never sent one. */
  cameras: CameraStatus[];
  /** Frames analysed per second over all cameras, from the latest status message. */
  analysedFps: number | null;
  /** Events waiting in the car's outbox, from the latest status message. */
  outboxBacklog: number | null;
}

export type ListName = 'hotlist' | 'watchlist';

/** Author, time and reason of a list change; every change bumps the list's version. */
export interface ChangeMeta {
  by: string;
  atMs: number;
  reason: string;
}

export interface StoredHotlistEntry {
  /** Normalised plate text. */
  plate: string;
  reason: string;
  /** 1 is the most urgent, 5 the least. */
  priority: number;
  /** Central clock after which the entry no longer matches, or null for no expiry. */
  expiresAtMs: number | null;
  /** 'config' for entries from the config file (replaced at each start), 'operator' otherwise. */
  source: 'config' | 'operator';
  addedBy: string;
  addedAtMs: number;
}

export type HotlistEntryInput = Omit<StoredHotlistEntry, 'addedBy' | 'addedAtMs'>;

/** A face list: its subjects match when the cosine similarity reaches the list's threshold. */
export interface FaceList {
  listId: string;
  threshold: number;
}

export interface StoredSubject {
  subjectId: string;
  listId: string;
  /** Display label for operators. Never logged, because it names a person. */
  label: string;
  /** One embedding per enrolled photo. */
  embeddings: Float32Array[];
  source: 'config' | 'operator';
  enrolledBy: string;
  enrolledAtMs: number;
}

export type SubjectInput = Omit<StoredSubject, 'enrolledBy' | 'enrolledAtMs'>;

/** One change of a list, in version order; the list publisher turns these into deltas. */
export interface ListChange {
  list: ListName;
  version: number;
  op: 'upsert' | 'remove';
  /** Plate for the hotlist; `subject:<id>`, `negative:<subjectId>:<hitId>` or `list:<id>` for the watchlist. */
  key: string;
  atMs: number;
}

export type UserRole = 'operator' | 'supervisor' | 'administrator';

export interface User {
  username: string;
  role: UserRole;
  /** Opaque to the store; the web layer hashes and checks passwords. */
  passwordHash: string;
  disabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewUser = Omit<User, 'updatedAtMs'>;

export type UserUpdate = Partial<Pick<User, 'role' | 'passwordHash' | 'disabled'>> & { updatedAtMs: number };

/** A command-centre login session as stored, so it survives a restart of the central service. */
export interface StoredWebSession {
  /** SHA-256 of the cookie token in base64url. The token itself is never stored. */
  tokenSha256: string;
  username: string;
  role: UserRole;
  csrfToken: string;
  createdAtMs: number;
  lastSeenAtMs: number;
}

/**
 * Expiry cutoffs of login sessions (central clock, ms since the epoch). A session last seen before
 * lastSeenBeforeMs is idle-expired, and one created before createdBeforeMs has reached its maximum age.
 */
export interface WebSessionCutoffs {
  lastSeenBeforeMs: number;
  createdBeforeMs: number;
}

export interface WebSessionLastSeen {
  tokenSha256: string;
  lastSeenAtMs: number;
}

export interface AuditEntryInput {
  atMs: number;
  /** Username, or `system` for the service itself. */
  actor: string;
  /** Dotted verb such as `hit.dismiss`, `hotlist.add`, `search.hits`, `user.login`. */
  action: string;
  /** Target of the action, such as a hit id, plate, subject id or username, or null. */
  target: string | null;
  reason: string | null;
  /** Small JSON-serialisable detail, such as search filters; never images or embeddings. */
  details?: Record<string, unknown> | null;
}

export interface AuditEntry extends AuditEntryInput {
  /** Increasing id; the audit log is append-only and rows are removed only by retention. */
  id: number;
  details: Record<string, unknown> | null;
}

export interface AuditQuery {
  /** Entries with a smaller id only, for paging backwards. */
  beforeId?: number;
  actor?: string;
  action?: string;
  target?: string;
  fromMs?: number;
  toMs?: number;
  /** 1-1000, default 100. Results are newest first. */
  limit?: number;
}

/** Rows older than each cutoff (central clock, ms since the epoch) are removed; null keeps them. */
export interface RetentionCutoffs {
  hitsBeforeMs: number | null;
  plateReadsBeforeMs: number | null;
  faceSightingsBeforeMs: number | null;
  /** Object events (people and vehicles without a plate read). */
  objectEventsBeforeMs: number | null;
  /** Evidence images are removed from older events and hits, which are otherwise kept. */
  evidenceBeforeMs: number | null;
  auditBeforeMs: number | null;
}

export interface PurgeCounts {
  hits: number;
  plateReads: number;
  faceSightings: number;
  objectEvents: number;
  evidence: number;
  audit: number;
}

export type StoreErrorCode =
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_OPEN_FAILED'
  | 'STORE_HIT_NOT_FOUND'
  | 'STORE_HIT_ALREADY_DECIDED'
  | 'STORE_USER_EXISTS'
  | 'STORE_USER_NOT_FOUND'
  | 'STORE_SUBJECT_NOT_FOUND'
  | 'STORE_LIST_NOT_FOUND'
  | 'STORE_INVALID_QUERY'
  | 'STORE_CLOSED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CentralStore {
  readonly backend: StoreBackend;
  readonly isOpen: boolean;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;

  /** Stores an event once per (carId, seq) and, for a match, raises a new hit or folds it into a recent one. */
  recordEvent(input: RecordEventInput): Promise<RecordEventOutcome>;
  getEvent(carId: string, seq: number): Promise<PatrolEvent | null>;
  countEvents(carId: string): Promise<number>;
  searchEvents(query: EventQuery): Promise<EventSummary[]>;

  getHit(hitId: string): Promise<StoredHit | null>;
  /** Hits of one car, oldest first. */
  listHitsForCar(carId: string): Promise<StoredHit[]>;
  searchHits(query: HitQuery): Promise<StoredHit[]>;
  /**
   * Records the decision on an open hit and returns the updated hit; rejects with
   * STORE_HIT_NOT_FOUND or STORE_HIT_ALREADY_DECIDED.
   */
  decideHit(input: DecideHitInput): Promise<StoredHit>;

  recordCarStatus(status: CarStatusMessage, receivedAtMs: number): Promise<void>;
  /** Latest clock offset a car reported, or null; used when an event carries none. */
  getCarClockOffset(carId: string): Promise<number | null>;
  listFleetStatus(): Promise<CarStatus[]>;

  listVersion(list: ListName): Promise<number>;
  /** Changes after sinceVersion, oldest first, at most limit. */
  listChangesSince(list: ListName, sinceVersion: number, limit: number): Promise<ListChange[]>;

  /** Every hotlist entry, expired ones included. */
  listHotlistEntries(): Promise<StoredHotlistEntry[]>;
  /** Adds or replaces entries by plate; returns the new hotlist version. */
  upsertHotlistEntries(entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<number>;
  /** Removes entries by plate (missing plates are ignored); returns the new hotlist version. */
  removeHotlistEntries(plates: readonly string[], change: ChangeMeta): Promise<number>;
  /** Replaces every entry whose source is 'config' by these; returns the new hotlist version. */
  replaceConfigHotlist(entries: readonly HotlistEntryInput[], change: ChangeMeta): Promise<number>;

  listFaceLists(): Promise<FaceList[]>;
  upsertFaceList(list: FaceList, change: ChangeMeta): Promise<number>;
  listSubjects(): Promise<StoredSubject[]>;
  /** Adds or replaces a subject; its list must exist. Returns the new watchlist version. */
  upsertSubject(subject: SubjectInput, change: ChangeMeta): Promise<number>;
  /** Removes a subject and its negatives; returns the new watchlist version. */
  removeSubject(subjectId: string, change: ChangeMeta): Promise<number>;
  listFaceNegatives(): Promise<FaceNegative[]>;

  /** Rejects with STORE_USER_EXISTS when the name is taken. */
  createUser(user: NewUser): Promise<void>;
  getUser(username: string): Promise<User | null>;
  listUsers(): Promise<User[]>;
  /** Rejects with STORE_USER_NOT_FOUND. */
  updateUser(username: string, update: UserUpdate): Promise<User>;

  /** Adds a login session, or replaces the one with the same token digest. */
  saveWebSession(session: StoredWebSession): Promise<void>;
  /** Sessions that have expired by neither cutoff, oldest first. */
  listLiveWebSessions(cutoffs: WebSessionCutoffs): Promise<StoredWebSession[]>;
  /** Moves the last-seen times of several sessions forward in one transaction. A time is never moved back, and unknown digests are skipped. */
  updateWebSessionsLastSeen(updates: readonly WebSessionLastSeen[]): Promise<void>;
  /** Returns whether a session was deleted. */
  deleteWebSession(tokenSha256: string): Promise<boolean>;
  /** Deletes every session of a user and returns how many were deleted. */
  deleteUserWebSessions(username: string): Promise<number>;
  /** Deletes the sessions that have expired by either cutoff and returns how many were deleted. */
  purgeExpiredWebSessions(cutoffs: WebSessionCutoffs): Promise<number>;

  appendAudit(entry: AuditEntryInput): Promise<AuditEntry>;
  /** Newest entries first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;

  purge(cutoffs: RetentionCutoffs): Promise<PurgeCounts>;
}

/** Default and maximum number of rows a search returns. */
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

/** Clamps a query limit into 1..MAX_QUERY_LIMIT, or rejects a value that is not a positive integer. */
export function queryLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StoreError('STORE_INVALID_QUERY', `limit should be a positive integer, instead got ${limit}`);
  }
  return Math.min(limit, MAX_QUERY_LIMIT);
}
