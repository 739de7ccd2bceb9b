// The SQLite outbox: every event is committed here before any send, numbered with the car's
// monotonic sequence, and deleted only after the broker acknowledged it. Sending is the publisher's job.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export interface OutboxRow {
  seq: number;
  topic: string;
  payload: Buffer;
  createdAtMs: number;
}

export interface OutboxStats {
  depth: number;
  oldestCreatedAtMs: number | null;
  lastSeq: number;
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
];

export class Outbox {
  private readonly db: Database.Database;
  private readonly nextSeqStmt: Database.Statement<[], { value: number }>;
  private readonly insertStmt: Database.Statement<[number, string, Buffer, number]>;
  private readonly deleteStmt: Database.Statement<[number]>;
  private readonly peekStmt: Database.Statement<[number, number], { seq: number; topic: string; payload: Buffer; created_ms: number }>;
  private readonly appendTx: (build: (seq: number, committedAtMs: number) => { topic: string; payload: Buffer }) => number;

  constructor(file: string, private readonly nowMs: () => number = Date.now) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL makes each commit durable across a power cut, which a car's 12 V supply does not rule out.
    this.db.pragma('synchronous = FULL');
    this.migrate();
    this.nextSeqStmt = this.db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'last_seq' RETURNING value");
    this.insertStmt = this.db.prepare('INSERT INTO outbox (seq, topic, payload, created_ms) VALUES (?, ?, ?, ?)');
    this.deleteStmt = this.db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.peekStmt = this.db.prepare('SELECT seq, topic, payload, created_ms FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.appendTx = this.db.transaction((build) => {
      const seq = this.nextSeqStmt.get()!.value;
      const committedAtMs = this.nowMs();
      const { topic, payload } = build(seq, committedAtMs);
      this.insertStmt.run(seq, topic, payload, committedAtMs);
      return seq;
    });
  }

  /**
   * Commits one event. `build` receives the sequence number and commit time and returns the topic
   * and payload; both land in one transaction, so a crash leaves either the whole event or nothing.
   */
  append(build: (seq: number, committedAtMs: number) => { topic: string; payload: Buffer }): number {
    return this.appendTx(build);
  }

  /** Returns up to `limit` unsent rows with a sequence number above `afterSeq`, oldest first. */
  peek(afterSeq: number, limit: number): OutboxRow[] {
    return this.peekStmt.all(afterSeq, limit).map((row) => ({
      seq: row.seq,
      topic: row.topic,
      payload: row.payload,
      createdAtMs: row.created_ms,
    }));
  }

  /** Deletes a row after the broker acknowledged it. */
  remove(seq: number): void {
    this.deleteStmt.run(seq);
  }

  stats(): OutboxStats {
    const row = this.db.prepare('SELECT COUNT(*) AS depth, MIN(created_ms) AS oldest FROM outbox').get() as {
      depth: number;
      oldest: number | null;
    };
    const last = this.db.prepare("SELECT value FROM meta WHERE key = 'last_seq'").get() as { value: number };
    return { depth: row.depth, oldestCreatedAtMs: row.oldest, lastSeq: last.value };
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let step = version; step < MIGRATIONS.length; step++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[step]!);
        this.db.pragma(`user_version = ${step + 1}`);
      })();
    }
  }
}
