// Keeps a list's signed messages on the car's disk (the last snapshot and the deltas applied after
// it), so the lists survive a restart without a broker. The files hold the messages exactly as
// signed, and they are verified again when loaded, so a file changed on disk is rejected too.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ListName } from '../../src/protocol/lists.js';
import { ListError } from './list-errors.js';

/** Deltas kept after a snapshot; the central service sends a new snapshot with every version. */
export const MAX_KEPT_DELTAS = 500;

export class ListFile {
  private readonly file: string;

  constructor(dir: string, list: ListName) {
    this.file = path.join(dir, `${list}.json`);
  }

  /** Returns the stored messages in the order they were applied; empty when there is no file. */
  read(): string[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ListError('LIST_STORE_FAILED', `cannot read ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const messages = JSON.parse(text) as unknown;
      if (Array.isArray(messages) && messages.every((message) => typeof message === 'string')) return messages;
    } catch {
      // Reported below like any other unreadable content.
    }
    throw new ListError('LIST_STORE_FAILED', `${this.file} should contain a JSON array of signed list messages; delete it and the car fetches the lists again`);
  }

  /** Replaces the file's content in one atomic rename, after an fsync, so a power cut leaves the old or the new list. */
  write(messages: readonly string[]): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const partial = `${this.file}.partial`;
    const fd = openSync(partial, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(messages));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, this.file);
  }
}
