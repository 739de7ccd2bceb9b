// List administration for the command centre over the service's ListManager, which audits every
// change and publishes it to the cars. This file maps requests, results and refusals between them.
import { EnrolmentError } from '../../matching/enrolment.js';
import { DEFAULT_FACE_LIST_ID } from '../../matching/face-index.js';
import { normalisePlateText } from '../../matching/hotlist.js';
import { ListChangeError, type ListManager } from '../lists/list-manager.js';
import type { StoredSubject } from '../store/store.js';
import { ListAdminError, type EnrolResult, type HotlistEntryView, type HotlistImportReport, type ListAdmin, type ListChangeMeta, type WatchlistSubjectView } from './ports.js';

export class ListManagerAdmin implements ListAdmin {
  constructor(private readonly manager: ListManager) {}

  async listHotlist(): Promise<HotlistEntryView[]> {
    const entries = await this.manager.listHotlist();
    return entries.map(({ plate, reason, priority, expiresAtMs, source }) => ({ plate, reason, priority, expiresAtMs, source }));
  }

  async upsertHotlistEntry(entry: Omit<HotlistEntryView, 'source'>, change: ListChangeMeta): Promise<void> {
    await mapListErrors(() => this.manager.upsertHotlistEntries([entry], change.by, change.reason));
  }

  async removeHotlistEntry(plate: string, change: ListChangeMeta): Promise<void> {
    await mapListErrors(() => this.manager.removeHotlistEntry(normalisePlateText(plate), change.by, change.reason));
  }

  async importHotlistCsv(csvText: string, change: ListChangeMeta): Promise<HotlistImportReport> {
    const report = await mapListErrors(() => this.manager.importHotlistCsv(csvText, change.by, change.reason));
    return { accepted: report.entries.length, rejected: report.rejected.map(({ line, reason }) => ({ line, reason })) };
  }

  async listWatchlist(): Promise<WatchlistSubjectView[]> {
    return (await this.manager.listSubjects()).map(toSubjectView);
  }

  async enrolSubject(subject: { subjectId: string; label: string; photos: Buffer[] }, change: ListChangeMeta): Promise<EnrolResult> {
    const photos = subject.photos.map((encoded, index) => ({ name: `photo ${index + 1}`, encoded }));
    // NOTE: the page enrols into the default face list only; other lists come from the config file.
    const request = { subjectId: subject.subjectId, listId: DEFAULT_FACE_LIST_ID, label: subject.label, photos };
    const report = await mapListErrors(() => this.manager.enrolSubject(request, change.by, change.reason));
    const rejectedPhotos = report.photos.flatMap((photo) => (photo.ok ? [] : [{ name: photo.name, reason: photo.reason }]));
    const view: WatchlistSubjectView = { subjectId: subject.subjectId, listId: DEFAULT_FACE_LIST_ID, label: subject.label, photoCount: report.embeddings.length };
    return { subject: view, rejectedPhotos };
  }

  async removeSubject(subjectId: string, change: ListChangeMeta): Promise<void> {
    await mapListErrors(() => this.manager.removeSubject(subjectId, change.by, change.reason));
  }
}

function toSubjectView(subject: StoredSubject): WatchlistSubjectView {
  return { subjectId: subject.subjectId, listId: subject.listId, label: subject.label, photoCount: subject.embeddings.length };
}

/** Turns the list manager's and enrolment's refusals into ListAdminErrors; other errors pass through. */
async function mapListErrors<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ListChangeError) {
      if (error.code === 'LIST_ENTRY_NOT_FOUND') throw new ListAdminError('HOTLIST_ENTRY_NOT_FOUND', error.message, { cause: error });
      if (error.code === 'LIST_NO_EMBEDDER') throw new ListAdminError('ENROL_REJECTED', error.message, { cause: error });
      throw new ListAdminError('HOTLIST_ENTRY_INVALID', error.message, { cause: error });
    }
    if (error instanceof EnrolmentError) throw new ListAdminError('ENROL_REJECTED', error.message, { cause: error });
    throw error;
  }
}
