// The SQLite outbox: every event is committed here before any send, numbered with the car's
// monotonic sequence, and deleted only once it is safe: when the central service's receipt confirms
// it is stored (or, in broker-ack mode, at the broker's PUBACK). Hits are sent first and never evicted;
// the disk budget (disk-budget.ts) evicts non-hit evidence, then non-hit events. An event the central
// service rejected moves to a quarantine table, kept for inspection and never resent. Sending is the
// publisher's job.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { enforceDiskBudget, type DiskBudget, type Eviction } from './disk-budget.js';
import { evidenceBytesOf, stripEvidence } from './evidence.js';

export type { DiskBudget, Eviction } from './disk-budget.js';

export interface OutboxRow {
  seq: number;
  topic: string;
  payload: Buffer;
  createdAtMs: number;
  /** True for an event that matched a list on the car. */
  hit: boolean;
  /** When the broker acknowledged the last send and no receipt has come yet; null when never sent. */
  sentAtMs: number | null;
}

export interface OutboxStats {
  depth: number;
  oldestCreatedAtMs: number | null;
  lastSeq: number;
  /** Events waiting that matched a list on the car. */
  hits: number;
  /** Sum of the payload sizes waiting, evidence included. */
  payloadBytes: number;
  /** Base64 evidence inside the waiting payloads. */
  evidenceBytes: number;
  /** Waiting events the broker acknowledged, still waiting for the central service's receipt. */
  awaitingReceipt: number;
  /** Events the central service rejected, set aside in the quarantine table. */
  quarantined: number;
}

export interface AppendOptions {
  /** A hit found on the car: sent ahead of other events, and its evidence is never evicted. */
  hit?: boolean;
}

export interface OutboxOptions {
  nowMs?: () => number;
  /** Caps on what the outbox keeps; unlimited when absent. */
  budget?: DiskBudget;
  /** Called after each eviction pass, so the caller can log and count it. */
  onEviction?: (eviction: Eviction) => void;
  /**
   * Sequence number of the first event in a new outbox file (default 1); ignored for an existing
   * file. The agent starts at its clock in ms, so a car whose outbox was lost or wiped never reuses
   * sequence numbers the central service has already stored (which it would drop as duplicates).
   */
  firstSeq?: number;
}

type Build = (seq: number, committedAtMs: number) => { topic: string; payload: Buffer };

interface SizedRow {
  seq: number;
  payload: Buffer;
  evidence_bytes: number;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY,
     topic TEXT NOT NULL,
     payload BLOB NOT NULL,
     created_ms INTEGER NOT NULL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   INSERT INTO meta (key, value) VALUES ('last_seq', 0);`,
  // priority 1 marks a hit found on the car; evidence_bytes is what stripping its evidence frees.
  `ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE outbox ADD COLUMN evidence_bytes INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX outbox_send_order ON outbox (priority DESC, seq);`,
  // sent_ms: when the broker acknowledged the last send; the row stays until the central receipt.
  `ALTER TABLE outbox ADD COLUMN sent_ms INTEGER;
   CREATE TABLE quarantine (
     seq INTEGER PRIMARY KEY,
     topic TEXT NOT NULL,
     payload BLOB NOT NULL,
     created_ms INTEGER NOT NULL,
     code TEXT NOT NULL,
     quarantined_ms INTEGER NOT NULL
   );`,
];

/** Maximum rejected events kept in quarantine. Beyond it the oldest are deleted. */
export const MAX_QUARANTINED = 1000;

type RowColumns = { seq: number; topic: string; payload: Buffer; created_ms: number; priority: number; sent_ms: number | null };

export class Outbox {
  private readonly db: Database.Database;
  private readonly nowMs: () => number;
  private readonly budget: DiskBudget | null;
  private readonly onEviction: ((eviction: Eviction) => void) | null;
  private readonly nextSeqStmt: Database.Statement<[], { value: number }>;
  private readonly insertStmt: Database.Statement<[number, string, Buffer, number, number, number]>;
  private readonly deleteStmt: Database.Statement<[number], { bytes: number; evidence_bytes: number }>;
  private readonly deleteSentStmt: Database.Statement<[number], { bytes: number; evidence_bytes: number }>;
  private readonly peekStmt: Database.Statement<[number, number], RowColumns>;
  private readonly sendOrderStmt: Database.Statement<[number, string, number], RowColumns>;
  private readonly markSentStmt: Database.Statement<[number, number]>;
  private readonly appendTx: (build: Build, hit: boolean) => number;
  private payloadBytes = 0;
  private evidenceBytes = 0;

  constructor(file: string, options: OutboxOptions | (() => number) = {}) {
    const resolved: OutboxOptions = typeof options === 'function' ? { nowMs: options } : options;
    this.nowMs = resolved.nowMs ?? Date.now;
    this.budget = resolved.budget ?? null;
    this.onEviction = resolved.onEviction ?? null;
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL makes each commit durable across a power cut, which a car's 12 V supply does not rule out.
    this.db.pragma('synchronous = FULL');
    const created = this.migrate();
    if (created && resolved.firstSeq !== undefined) this.startSequenceAt(resolved.firstSeq);

    this.nextSeqStmt = this.db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'last_seq' RETURNING value");
    this.insertStmt = this.db.prepare('INSERT INTO outbox (seq, topic, payload, created_ms, priority, evidence_bytes) VALUES (?, ?, ?, ?, ?, ?)');
    this.deleteStmt = this.db.prepare('DELETE FROM outbox WHERE seq = ? RETURNING length(payload) AS bytes, evidence_bytes');
    this.deleteSentStmt = this.db.prepare('DELETE FROM outbox WHERE seq = ? AND sent_ms IS NOT NULL RETURNING length(payload) AS bytes, evidence_bytes');
    this.peekStmt = this.db.prepare('SELECT seq, topic, payload, created_ms, priority, sent_ms FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.sendOrderStmt = this.db.prepare(
      'SELECT seq, topic, payload, created_ms, priority, sent_ms FROM outbox WHERE (sent_ms IS NULL OR sent_ms <= ?) AND seq NOT IN (SELECT value FROM json_each(?)) ORDER BY priority DESC, seq LIMIT ?',
    );
    this.markSentStmt = this.db.prepare('UPDATE outbox SET sent_ms = ? WHERE seq = ?');
    this.appendTx = this.db.transaction((build: Build, hit: boolean) => {
      const seq = this.nextSeqStmt.get()!.value;
      const committedAtMs = this.nowMs();
      const { topic, payload } = build(seq, committedAtMs);
      const evidenceBytes = evidenceBytesOf(payload);
      this.insertStmt.run(seq, topic, payload, committedAtMs, hit ? 1 : 0, evidenceBytes);
      this.payloadBytes += payload.length;
      this.evidenceBytes += evidenceBytes;
      return seq;
    });
    this.loadTotals();
    // A smaller budget than the outbox was written under applies from the start.
    if (this.budget !== null) this.enforceBudget(this.budget);
  }

  /**
   * Commits one event. `build` receives the sequence number and commit time and returns the topic
   * and payload. Both land in one transaction, so a crash leaves either the whole event or nothing.
   * The disk budget is enforced right after, in its own transaction.
   */
  append(build: Build, options: AppendOptions = {}): number {
    const totalsBefore = { payloadBytes: this.payloadBytes, evidenceBytes: this.evidenceBytes };
    let seq: number;
    try {
      seq = this.appendTx(build, options.hit === true);
    } catch (error) {
      // The transaction rolled back, so the running totals must too.
      this.payloadBytes = totalsBefore.payloadBytes;
      this.evidenceBytes = totalsBefore.evidenceBytes;
      throw error;
    }
    if (this.budget !== null) this.enforceBudget(this.budget);
    return seq;
  }

  /** Returns up to `limit` waiting rows with a sequence number above `afterSeq`, oldest first. */
  peek(afterSeq: number, limit: number): OutboxRow[] {
    return this.peekStmt.all(afterSeq, limit).map(toRow);
  }

  /**
   * Returns up to `limit` rows to send, in send order: hits first, then by sequence. Rows in `exclude`
   * (already handed to the client) are left out. So is a row the broker acknowledged, until its
   * receipt is overdue because it was sent at or before `resendSentBeforeMs`.
   */
  nextToSend(exclude: ReadonlySet<number>, limit: number, resendSentBeforeMs = Number.MAX_SAFE_INTEGER): OutboxRow[] {
    return this.sendOrderStmt.all(resendSentBeforeMs, JSON.stringify([...exclude]), limit).map(toRow);
  }

  /** Records that the broker acknowledged a row; it stays until the central receipt. */
  markSent(seq: number, atMs: number): void {
    this.markSentStmt.run(atMs, seq);
  }

  /**
   * Moves a row the central service rejected into quarantine, if the rejection names exactly the
   * payload this row holds. Returns false when there is no such row, or its payload differs.
   */
  quarantine(seq: number, code: string, matches: (payload: Buffer) => boolean): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT seq, topic, payload, created_ms FROM outbox WHERE seq = ?').get(seq) as
        | { seq: number; topic: string; payload: Buffer; created_ms: number }
        | undefined;
      if (row === undefined || !matches(row.payload)) return false;
      this.db
        .prepare('INSERT OR REPLACE INTO quarantine (seq, topic, payload, created_ms, code, quarantined_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.seq, row.topic, row.payload, row.created_ms, code, this.nowMs());
      this.db.prepare('DELETE FROM quarantine WHERE seq NOT IN (SELECT seq FROM quarantine ORDER BY seq DESC LIMIT ?)').run(MAX_QUARANTINED);
      this.remove(seq);
      return true;
    })();
  }

  /** Deletes a row once it is safe (central receipt, PUBACK in broker-ack mode, eviction). Returns false when the row was already gone. */
  remove(seq: number): boolean {
    return this.deleteRow(this.deleteStmt, seq);
  }

  /**
   * Deletes a row that a central receipt confirms, but only if the broker acknowledged sending it:
   * a receipt for an event never sent cannot be genuine. Returns false when no such row exists.
   */
  confirmStored(seq: number): boolean {
    return this.deleteRow(this.deleteSentStmt, seq);
  }

  private deleteRow(statement: Database.Statement<[number], { bytes: number; evidence_bytes: number }>, seq: number): boolean {
    const removed = statement.get(seq);
    if (removed === undefined) return false;
    this.payloadBytes -= removed.bytes;
    this.evidenceBytes -= removed.evidence_bytes;
    return true;
  }

  stats(): OutboxStats {
    const row = this.db
      .prepare('SELECT COUNT(*) AS depth, MIN(created_ms) AS oldest, COALESCE(SUM(priority), 0) AS hits, COUNT(sent_ms) AS awaiting FROM outbox')
      .get() as { depth: number; oldest: number | null; hits: number; awaiting: number };
    const quarantined = this.db.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number };
    const last = this.db.prepare("SELECT value FROM meta WHERE key = 'last_seq'").get() as { value: number };
    return {
      depth: row.depth,
      oldestCreatedAtMs: row.oldest,
      lastSeq: last.value,
      hits: row.hits,
      payloadBytes: this.payloadBytes,
      evidenceBytes: this.evidenceBytes,
      awaitingReceipt: row.awaiting,
      quarantined: quarantined.n,
    };
  }

  /** Runs SQLite's integrity check; returns true when the database is consistent. */
  checkIntegrity(): boolean {
    return this.db.pragma('integrity_check', { simple: true }) === 'ok';
  }

  close(): void {
    this.db.close();
  }

  private enforceBudget(budget: DiskBudget): void {
    const evictions = this.db.transaction(() =>
      enforceDiskBudget(budget, {
        totals: () => ({ payloadBytes: this.payloadBytes, evidenceBytes: this.evidenceBytes }),
        oldestWithEvidence: (limit) => this.oldestNonHits('evidence_bytes > 0', limit),
        oldestEvents: (limit) => this.oldestNonHits('1 = 1', limit),
        stripEvidence: (row) => this.stripRowEvidence(row),
        deleteEvent: (row) => this.remove(row.seq),
      }),
    )();
    for (const eviction of evictions) this.onEviction?.(eviction);
  }

  private oldestNonHits(condition: string, limit: number): SizedRow[] {
    return this.db
      .prepare(`SELECT seq, payload, evidence_bytes FROM outbox WHERE priority = 0 AND ${condition} ORDER BY seq LIMIT ?`)
      .all(limit) as SizedRow[];
  }

  /** Rewrites a row without its evidence; returns the bytes freed. */
  private stripRowEvidence(row: SizedRow): number {
    const stripped = stripEvidence(row.payload) ?? row.payload;
    this.db.prepare('UPDATE outbox SET payload = ?, evidence_bytes = 0 WHERE seq = ?').run(stripped, row.seq);
    this.payloadBytes -= row.payload.length - stripped.length;
    this.evidenceBytes -= row.evidence_bytes;
    return row.payload.length - stripped.length;
  }

  private loadTotals(): void {
    const totals = this.db.prepare('SELECT COALESCE(SUM(length(payload)), 0) AS bytes, COALESCE(SUM(evidence_bytes), 0) AS evidence FROM outbox').get() as {
      bytes: number;
      evidence: number;
    };
    this.payloadBytes = totals.bytes;
    this.evidenceBytes = totals.evidence;
  }

  /** Brings the schema up to date; returns true when the file was new. */
  private migrate(): boolean {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let step = version; step < MIGRATIONS.length; step++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[step]!);
        this.db.pragma(`user_version = ${step + 1}`);
      })();
    }
    return version === 0;
  }

  private startSequenceAt(firstSeq: number): void {
    if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) throw new RangeError(`firstSeq should be a positive safe integer, instead got ${firstSeq}`);
    this.db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'").run(firstSeq - 1);
    this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('first_seq', ?)").run(firstSeq);
  }
}

function toRow(row: RowColumns): OutboxRow {
  return { seq: row.seq, topic: row.topic, payload: row.payload, createdAtMs: row.created_ms, hit: row.priority > 0, sentAtMs: row.sent_ms };
}
