// Interfaces the command centre uses to reach the rest of the central service: the store's search,
// user, audit and login-session methods, the service's hit decisions and live hits, and the list
// administration.
// The web layer depends only on these interfaces, so tests and other services can supply them.
import type { SessionPersistenceStore } from '../auth/sessions.js';
import type { Hit } from '../hit.js';
import type { CentralStore, HitRepeat, StoredHit } from '../store/store.js';

/** The part of the central store the command centre reads and writes, login sessions included. */
export type CommandCentreStore = Pick<
  CentralStore,
  'getHit' | 'searchHits' | 'searchEvents' | 'listFleetStatus' | 'createUser' | 'getUser' | 'listUsers' | 'updateUser' | 'appendAudit' | 'listAudit'
> &
  SessionPersistenceStore;

/**
 * Operator decisions on hits. The service records the decision and its audit entry together, and
 * keeps a dismissed face as a negative for the subject. Rejects with the store's
 * STORE_HIT_NOT_FOUND or STORE_HIT_ALREADY_DECIDED.
 */
export interface HitDecisions {
  confirmHit(hitId: string, by: string, reason: string): Promise<StoredHit>;
  dismissHit(hitId: string, by: string, reason: string): Promise<StoredHit>;
}

/** Source of new hits, repeats and decisions as the service makes them (CentralService is one). */
export interface HitSource {
  on(event: 'hit', listener: (hit: Hit) => void): unknown;
  on(event: 'hitRepeated', listener: (repeat: HitRepeat) => void): unknown;
  on(event: 'hitDecided', listener: (hit: StoredHit) => void): unknown;
  off(event: 'hit', listener: (hit: Hit) => void): unknown;
  off(event: 'hitRepeated', listener: (repeat: HitRepeat) => void): unknown;
  off(event: 'hitDecided', listener: (hit: StoredHit) => void): unknown;
}

export interface HotlistEntryView {
  plate: string;
  reason: string;
  priority: number;
  /** ms since the epoch, or null when the entry does not expire. */
  expiresAtMs: number | null;
  source: 'config' | 'operator';
}

export interface HotlistImportReport {
  accepted: number;
  rejected: { line: number; reason: string }[];
}

export interface WatchlistSubjectView {
  subjectId: string;
  listId: string;
  label: string;
  photoCount: number;
}

export interface EnrolResult {
  subject: WatchlistSubjectView;
  /** Photos left out because no usable face was found in them. */
  rejectedPhotos: { name: string; reason: string }[];
}

export interface ListChangeMeta {
  by: string;
  reason: string;
}

/**
 * List administration. Implementations write the audit entry of every change themselves, in the
 * same step as the change, and publish the new list version to the cars.
 */
export interface ListAdmin {
  listHotlist(): Promise<HotlistEntryView[]>;
  upsertHotlistEntry(entry: Omit<HotlistEntryView, 'source'>, change: ListChangeMeta): Promise<void>;
  /** Rejects with a ListAdminError HOTLIST_ENTRY_NOT_FOUND. */
  removeHotlistEntry(plate: string, change: ListChangeMeta): Promise<void>;
  importHotlistCsv(csvText: string, change: ListChangeMeta): Promise<HotlistImportReport>;
  listWatchlist(): Promise<WatchlistSubjectView[]>;
  /**
   * Enrols a subject in the default face list from JPEG or PNG photos. Rejects with a ListAdminError
   * ENROL_REJECTED and the reason when no photo has a usable face.
   */
  enrolSubject(subject: { subjectId: string; label: string; photos: Buffer[] }, change: ListChangeMeta): Promise<EnrolResult>;
  /** Rejects with a ListAdminError SUBJECT_NOT_FOUND. */
  removeSubject(subjectId: string, change: ListChangeMeta): Promise<void>;
}

export type ListAdminErrorCode = 'HOTLIST_ENTRY_INVALID' | 'HOTLIST_ENTRY_NOT_FOUND' | 'ENROL_REJECTED' | 'SUBJECT_NOT_FOUND';

/** An expected refusal from list administration, shown to the user by its code. */
export class ListAdminError extends Error {
  override readonly name = 'ListAdminError';
  constructor(
    readonly code: ListAdminErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CommandCentrePorts {
  store: CommandCentreStore;
  decisions: HitDecisions;
  hits: HitSource;
  /** Absent when the service runs without list administration; the list page then reports that. */
  lists?: ListAdmin;
}

/** Audit actions the web layer writes itself; the service writes decisions and list changes. */
export type WebAuditAction = 'events.search' | 'user.create' | 'user.update' | 'user.login' | 'user.login-failed' | 'user.logout';
