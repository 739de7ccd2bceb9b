// The car's copies of the plate hotlist and the face watchlist: signed snapshots and deltas from the
// central service are verified, checked for order, applied, kept on disk and turned into matchers.
// Anything unsigned, tampered, from an unknown key or older than the copy is rejected with a ListError.
import type { KeyObject } from 'node:crypto';
import type { Logger } from '../../src/common/log.js';
import { FaceIndex } from '../../src/matching/face-index.js';
import { Hotlist } from '../../src/matching/hotlist.js';
import { applyListMessage, verifyListMessage, type HotlistItem, type ListItem, type ListName, type ListPayload, type ListState, type WatchlistItem } from '../../src/protocol/lists.js';
import { listDeltaTopic, listSnapshotTopic } from '../../src/protocol/topics.js';
import { ListError } from './list-errors.js';
import { ListFile, MAX_KEPT_DELTAS } from './list-file.js';
import { buildFaceIndex, buildHotlist } from './list-matchers.js';

export type ListOutcome =
  | { status: 'applied' | 'unchanged'; list: ListName; version: number }
  | { status: 'rejected'; list: ListName | null; error: ListError };

export interface CarListsOptions {
  /** Folder for the stored list messages, e.g. `<dataDir>/lists`. */
  dir: string;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  logger: Logger;
}

interface ListCopy<T extends ListItem> {
  state: ListState<T>;
  /** Signed messages behind `state`: the snapshot, then the deltas applied on top. */
  messages: string[];
  file: ListFile;
}

/** Version of a list the car has never received; any snapshot is newer. */
const NO_VERSION = -1;

export class CarLists {
  private readonly hotlistCopy: ListCopy<HotlistItem>;
  private readonly watchlistCopy: ListCopy<WatchlistItem>;
  private hotlistMatcher = new Hotlist([]);
  private faceMatcher = new FaceIndex({ lists: [], subjects: [] });

  constructor(private readonly options: CarListsOptions) {
    this.hotlistCopy = emptyCopy(new ListFile(options.dir, 'hotlist'));
    this.watchlistCopy = emptyCopy(new ListFile(options.dir, 'watchlist'));
  }

  get hotlist(): Hotlist {
    return this.hotlistMatcher;
  }

  get faceIndex(): FaceIndex {
    return this.faceMatcher;
  }

  /** Version of each list on the car, or -1 before its first snapshot. */
  versions(): Record<ListName, number> {
    return { hotlist: this.hotlistCopy.state.version, watchlist: this.watchlistCopy.state.version };
  }

  /** Loads the lists kept on disk, verifying every message again; a list that fails starts empty. */
  load(): void {
    for (const list of ['hotlist', 'watchlist'] as const) {
      const copy = this.copyOf(list);
      let messages: string[];
      try {
        messages = copy.file.read();
      } catch (error) {
        this.options.logger.error({ list, code: (error as ListError).code, err: (error as Error).message }, 'stored list unreadable; waiting for the central service to send it again');
        continue;
      }
      for (const message of messages) {
        const outcome = this.apply(Buffer.from(message, 'utf8'), list, null, { persist: false });
        if (outcome.status === 'rejected') {
          this.options.logger.error({ list, code: outcome.error.code, err: outcome.error.message }, 'stored list rejected; the car starts without it until the central service sends it again');
          this.reset(list);
          break;
        }
      }
      this.options.logger.info({ list, version: copy.state.version, items: copy.state.items.size }, 'list loaded from disk');
    }
  }

  /** Verifies and applies one message from a list topic; every failure comes back as a rejected outcome. */
  receive(topic: string, payload: Uint8Array): ListOutcome {
    const route = routeOf(topic);
    if (route === null) return rejected(null, 'LIST_WRONG_TOPIC', `topic ${topic} is not a list topic`);
    return this.apply(payload, route.list, route.kind, { persist: true });
  }

  /** Topics to subscribe to, snapshot and delta of each list. */
  topics(): string[] {
    return (['hotlist', 'watchlist'] as const).flatMap((list) => [listSnapshotTopic(list), listDeltaTopic(list)]);
  }

  private apply(bytes: Uint8Array, list: ListName, expectedKind: 'snapshot' | 'delta' | null, options: { persist: boolean }): ListOutcome {
    const verified = this.verify(bytes, list, expectedKind);
    if ('error' in verified) return { status: 'rejected', list, error: verified.error };
    const { payload } = verified;
    const copy = this.copyOf(list);

    const order = checkOrder(payload, copy.state.version);
    if (order !== null) return order === 'unchanged' ? { status: 'unchanged', list, version: copy.state.version } : { status: 'rejected', list, error: order };
    const result = applyListMessage<ListItem>(copy.state, payload);
    if (!result.applied) return rejected(list, 'LIST_STALE', `${list} ${payload.kind} version ${payload.version} was not applied (${result.reason})`);

    try {
      this.rebuild(list, result.state);
    } catch (error) {
      return rejected(list, 'LIST_INVALID', `${list} version ${payload.version} is signed but cannot be used: ${(error as Error).message}`);
    }
    const text = Buffer.from(bytes).toString('utf8');
    copy.messages = payload.kind === 'snapshot' ? [text] : [...copy.messages, text];
    copy.state = result.state as ListState<never>;
    if (options.persist) this.persist(list, copy);
    return { status: 'applied', list, version: payload.version };
  }

  private verify(bytes: Uint8Array, list: ListName, expectedKind: 'snapshot' | 'delta' | null): { payload: ListPayload } | { error: ListError } {
    if (isUnsigned(bytes)) {
      return { error: new ListError('LIST_UNSIGNED', `${list} message carries no signature; only messages signed by a trusted key are accepted`) };
    }
    const verified = verifyListMessage(bytes, this.options.trustedKeys);
    if (!verified.ok) return { error: new ListError(verified.code, `${list} message rejected: ${verified.message}`) };
    const { payload } = verified;
    if (payload.list !== list || (expectedKind !== null && payload.kind !== expectedKind)) {
      return { error: new ListError('LIST_WRONG_TOPIC', `a signed ${payload.list} ${payload.kind} arrived on the ${list} ${expectedKind ?? ''} topic; it is rejected so one list cannot replace another`) };
    }
    return { payload };
  }

  private rebuild(list: ListName, state: ListState<ListItem>): void {
    if (list === 'hotlist') this.hotlistMatcher = buildHotlist(state.items as ReadonlyMap<string, HotlistItem>);
    else this.faceMatcher = buildFaceIndex(state.items as ReadonlyMap<string, WatchlistItem>);
  }

  private persist(list: ListName, copy: ListCopy<ListItem>): void {
    if (copy.messages.length > MAX_KEPT_DELTAS + 1) {
      this.options.logger.warn({ list, messages: copy.messages.length }, 'many list deltas since the last snapshot; the stored list grows until the next snapshot');
    }
    try {
      copy.file.write(copy.messages);
    } catch (error) {
      // The list in memory is current; only a restart before the next write would fall back.
      this.options.logger.error({ list, err: (error as Error).message }, 'could not store the list on disk');
    }
  }

  private reset(list: ListName): void {
    const copy = this.copyOf(list);
    copy.state = { version: NO_VERSION, items: new Map() };
    copy.messages = [];
    this.rebuild(list, copy.state);
  }

  private copyOf(list: ListName): ListCopy<ListItem> {
    return (list === 'hotlist' ? this.hotlistCopy : this.watchlistCopy) as ListCopy<ListItem>;
  }
}

function emptyCopy<T extends ListItem>(file: ListFile): ListCopy<T> {
  return { state: { version: NO_VERSION, items: new Map() }, messages: [], file };
}

/** Returns 'unchanged' for a repeat of the current version, a ListError for an older or unusable one, and null to apply. */
function checkOrder(payload: ListPayload, currentVersion: number): 'unchanged' | ListError | null {
  if (payload.version === currentVersion) return 'unchanged';
  if (payload.version < currentVersion) {
    return new ListError('LIST_STALE', `${payload.list} ${payload.kind} version ${payload.version} is older than the car's copy (version ${currentVersion}); it is rejected`);
  }
  if (payload.kind === 'delta' && payload.baseVersion !== currentVersion) {
    return new ListError('LIST_BASE_MISMATCH', `${payload.list} delta version ${payload.version} applies to version ${payload.baseVersion}, but the car has version ${currentVersion}; waiting for the next snapshot`);
  }
  return null;
}

function routeOf(topic: string): { list: ListName; kind: 'snapshot' | 'delta' } | null {
  for (const list of ['hotlist', 'watchlist'] as const) {
    if (topic === listSnapshotTopic(list)) return { list, kind: 'snapshot' };
    if (topic === listDeltaTopic(list)) return { list, kind: 'delta' };
  }
  return null;
}

/** True for a JSON object without a signature field, such as a bare list payload. */
function isUnsigned(bytes: Uint8Array): boolean {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    return json !== null && typeof json === 'object' && !Array.isArray(json) && !('signature' in json);
  } catch {
    return false;
  }
}

function rejected(list: ListName | null, code: ListError['code'], message: string): ListOutcome {
  return { status: 'rejected', list, error: new ListError(code, message) };
}
