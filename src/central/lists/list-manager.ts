// Owns the hotlist and the face watchlist at run time. It loads them from the store into the matchers,
// applies audited changes from operators and the config file, and reloads them when another instance
// changed them. Each new version goes to the list publisher.
import type { Logger } from '../../common/log.js';
import { Hotlist, parseHotlistCsvReport, parseHotlistEntries, type HotlistCsvReport } from '../../matching/hotlist.js';
import { enrolFromPhotos, type EnrolmentPhoto, type EnrolmentReport, type FaceEmbedder } from '../../matching/enrolment.js';
import { FaceIndex } from '../../matching/face-index.js';
import type { CentralStore, ChangeMeta, FaceList, HotlistEntryInput, StoredHotlistEntry, StoredSubject } from '../store/store.js';
import { hotlistItems, watchlistItems } from './list-items.js';
import type { ListPublisher } from './list-publisher.js';

export class ListChangeError extends Error {
  override readonly name = 'ListChangeError';
  constructor(
    readonly code: 'LIST_REASON_MISSING' | 'LIST_NO_EMBEDDER' | 'LIST_INVALID_ENTRY' | 'LIST_ENTRY_NOT_FOUND',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ListManagerDeps {
  store: CentralStore;
  logger: Logger;
  clock?: () => number;
  /** Needed only to enrol subjects from photos. */
  embedder?: FaceEmbedder;
  minEnrolmentQuality?: number;
}

/** Hotlist entry as an operator enters it; the plate is normalised on the way in. */
export interface HotlistEntryRequest {
  plate: string;
  reason: string;
  priority: number;
  expiresAtMs?: number | null;
}

export interface EnrolRequest {
  subjectId: string;
  listId: string;
  label: string;
  photos: readonly EnrolmentPhoto[];
}

export class ListManager {
  private hotlistMatcher = new Hotlist([]);
  private faceIndexMatcher = new FaceIndex({ lists: [], subjects: [] });
  private versions = { hotlist: -1, watchlist: -1 };
  private readonly clock: () => number;
  private pollTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<boolean> | null = null;
  private publisher: ListPublisher | null = null;

  constructor(private readonly deps: ListManagerDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  get hotlist(): Hotlist {
    return this.hotlistMatcher;
  }

  get faceIndex(): FaceIndex {
    return this.faceIndexMatcher;
  }

  /** Reloads a list whose version in the store differs from the loaded one; returns whether anything was reloaded. */
  refresh(): Promise<boolean> {
    // Concurrent callers share one reload, so two changes in a row never build the matchers twice at once.
    this.refreshing ??= this.reload().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async reload(): Promise<boolean> {
    const [hotlistVersion, watchlistVersion] = await Promise.all([this.deps.store.listVersion('hotlist'), this.deps.store.listVersion('watchlist')]);
    let changed = false;
    if (hotlistVersion !== this.versions.hotlist) {
      const entries = await this.deps.store.listHotlistEntries();
      this.hotlistMatcher = new Hotlist(entries.map(({ plate, reason, priority, expiresAtMs }) => ({ plate, reason, priority, expiresAtMs })));
      this.versions.hotlist = hotlistVersion;
      await this.publisher?.publish('hotlist', hotlistVersion, hotlistItems(entries));
      changed = true;
    }
    if (watchlistVersion !== this.versions.watchlist) {
      const [lists, subjects, negatives] = await Promise.all([this.deps.store.listFaceLists(), this.deps.store.listSubjects(), this.deps.store.listFaceNegatives()]);
      this.faceIndexMatcher = new FaceIndex({ lists, subjects, negatives });
      this.versions.watchlist = watchlistVersion;
      await this.publisher?.publish('watchlist', watchlistVersion, watchlistItems(lists, subjects, negatives));
      changed = true;
    }
    if (changed) {
      this.deps.logger.info({ hotlistVersion, hotlistEntries: this.hotlistMatcher.size, watchlistVersion, subjects: this.faceIndexMatcher.size }, 'lists loaded');
    }
    return changed;
  }

  /**
   * Publishes the loaded lists now and every later version. Attach it once the broker is connected,
   * because each publication waits for the broker's acknowledgement.
   */
  async attachPublisher(publisher: ListPublisher): Promise<void> {
    this.publisher = publisher;
    this.versions = { hotlist: -1, watchlist: -1 };
    await this.refresh();
  }

  /** Polls the store so changes made by another instance reach this one within intervalMs. */
  startPolling(intervalMs: number): void {
    this.stopPolling();
    this.pollTimer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'list refresh failed; retrying at the next poll'));
    }, intervalMs);
    this.pollTimer.unref();
  }

  stopPolling(): void {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  listHotlist(): Promise<StoredHotlistEntry[]> {
    return this.deps.store.listHotlistEntries();
  }

  listSubjects(): Promise<StoredSubject[]> {
    return this.deps.store.listSubjects();
  }

  listFaceLists(): Promise<FaceList[]> {
    return this.deps.store.listFaceLists();
  }

  /** Adds or replaces hotlist entries; rejects the whole request when any entry is invalid. */
  async upsertHotlistEntries(requests: readonly HotlistEntryRequest[], by: string, reason: string): Promise<number> {
    const change = this.change(by, reason);
    let entries;
    try {
      entries = parseHotlistEntries(requests.map(({ plate, reason: entryReason, priority, expiresAtMs }) => ({ plate, reason: entryReason, priority, expiresAtMs: expiresAtMs ?? null })), 'request');
    } catch (error) {
      throw new ListChangeError('LIST_INVALID_ENTRY', (error as Error).message, { cause: error });
    }
    const version = await this.deps.store.upsertHotlistEntries(entries.map((entry) => toInput(entry, 'operator')), change);
    for (const entry of entries) await this.audit(change, 'hotlist.add', entry.plate, { priority: entry.priority, expiresAtMs: entry.expiresAtMs ?? null });
    await this.refresh();
    return version;
  }

  async removeHotlistEntry(plate: string, by: string, reason: string): Promise<number> {
    const change = this.change(by, reason);
    const stored = await this.deps.store.listHotlistEntries();
    if (!stored.some((entry) => entry.plate === plate)) {
      throw new ListChangeError('LIST_ENTRY_NOT_FOUND', 'the plate is not on the hotlist; list the hotlist to find the exact normalised plate');
    }
    const version = await this.deps.store.removeHotlistEntries([plate], change);
    await this.audit(change, 'hotlist.remove', plate, null);
    await this.refresh();
    return version;
  }

  /** Imports the valid lines of a CSV file and reports the rejected ones; nothing is imported from rejected lines. */
  async importHotlistCsv(csvText: string, by: string, reason: string): Promise<HotlistCsvReport & { version: number }> {
    const change = this.change(by, reason);
    const report = parseHotlistCsvReport(csvText, { source: 'import', nowMs: change.atMs });
    const version = report.entries.length === 0 ? await this.deps.store.listVersion('hotlist') : await this.deps.store.upsertHotlistEntries(report.entries.map((entry) => toInput(entry, 'operator')), change);
    await this.audit(change, 'hotlist.import', null, { accepted: report.entries.length, rejectedLines: report.rejected.map((line) => line.line) });
    await this.refresh();
    return { ...report, version };
  }

  async upsertFaceList(list: FaceList, by: string, reason: string): Promise<number> {
    const change = this.change(by, reason);
    const version = await this.deps.store.upsertFaceList(list, change);
    await this.audit(change, 'watchlist.list', list.listId, { threshold: list.threshold });
    await this.refresh();
    return version;
  }

  /** Enrols (or re-enrols) a subject from the usable photos; see enrolFromPhotos for what is rejected. */
  async enrolSubject(request: EnrolRequest, by: string, reason: string): Promise<EnrolmentReport> {
    const change = this.change(by, reason);
    if (this.deps.embedder === undefined) throw new ListChangeError('LIST_NO_EMBEDDER', 'enrolment needs the face models; start the service with modelsDir set');
    const report = await enrolFromPhotos(request.photos, this.deps.embedder, { minQuality: this.deps.minEnrolmentQuality });
    await this.deps.store.upsertSubject({ subjectId: request.subjectId, listId: request.listId, label: request.label, embeddings: report.embeddings, source: 'operator' }, change);
    const rejected = report.photos.filter((photo) => !photo.ok).map((photo) => photo.name);
    await this.audit(change, 'watchlist.enrol', request.subjectId, { listId: request.listId, photosUsed: report.embeddings.length, photosRejected: rejected });
    await this.refresh();
    return report;
  }

  async removeSubject(subjectId: string, by: string, reason: string): Promise<number> {
    const change = this.change(by, reason);
    const version = await this.deps.store.removeSubject(subjectId, change);
    await this.audit(change, 'watchlist.remove', subjectId, null);
    await this.refresh();
    return version;
  }

  /**
   * Makes the store's config-sourced entries equal to the config file: hotlist entries, face lists and
   * enrolled subjects. Operator changes are kept unless the config names the same plate or subject.
   */
  async syncConfig(config: { hotlist: readonly HotlistEntryRequest[]; faceLists: readonly FaceList[]; subjects: readonly Omit<StoredSubject, 'source' | 'enrolledBy' | 'enrolledAtMs'>[] }): Promise<void> {
    const change: ChangeMeta = { by: 'system', atMs: this.clock(), reason: 'config file' };
    const entries = parseHotlistEntries(config.hotlist.map((entry) => ({ ...entry, expiresAtMs: entry.expiresAtMs ?? null })), 'config hotlist');
    await this.deps.store.replaceConfigHotlist(entries.map((entry) => toInput(entry, 'config')), change);

    for (const list of config.faceLists) await this.deps.store.upsertFaceList(list, change);
    const configured = new Set(config.subjects.map((subject) => subject.subjectId));
    for (const stale of (await this.deps.store.listSubjects()).filter((subject) => subject.source === 'config' && !configured.has(subject.subjectId))) {
      await this.deps.store.removeSubject(stale.subjectId, change);
    }
    for (const subject of config.subjects) await this.deps.store.upsertSubject({ ...subject, source: 'config' }, change);
    await this.refresh();
  }

  private change(by: string, reason: string): ChangeMeta {
    if (reason.trim() === '') throw new ListChangeError('LIST_REASON_MISSING', 'every list change needs a reason for the audit log; give one');
    return { by, atMs: this.clock(), reason: reason.trim() };
  }

  private async audit(change: ChangeMeta, action: string, target: string | null, details: Record<string, unknown> | null): Promise<void> {
    await this.deps.store.appendAudit({ atMs: change.atMs, actor: change.by, action, target, reason: change.reason, details });
  }
}

function toInput(entry: { plate: string; reason: string; priority: number; expiresAtMs?: number | null }, source: 'config' | 'operator'): HotlistEntryInput {
  return { plate: entry.plate, reason: entry.reason, priority: entry.priority, expiresAtMs: entry.expiresAtMs ?? null, source };
}
