// The files a replay camera plays: one video file, or every video file of a folder in name order.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Extensions of the files a folder replay picks up; other files in the folder are skipped. */
export const REPLAY_EXTENSIONS: ReadonlySet<string> = new Set(['.mp4', '.mkv', '.mov', '.avi', '.ts', '.webm', '.h264', '.264']);

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    readonly code: 'REPLAY_SOURCE_NOT_FOUND' | 'REPLAY_FOLDER_EMPTY',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Returns the files to play for `source`, a file or a folder. Folder entries are sorted by name
 * with numbers compared by value (clip2 before clip10), so a replay has the same order everywhere.
 */
export function listReplayFiles(source: string): string[] {
  let isFolder: boolean;
  try {
    isFolder = statSync(source).isDirectory();
  } catch {
    throw new ReplayError('REPLAY_SOURCE_NOT_FOUND', `replay source ${source} does not exist; give a video file or a folder of video files`);
  }
  if (!isFolder) return [source];

  const collator = new Intl.Collator('en', { numeric: true });
  const files = readdirSync(source, { withFileTypes: true })
    .filter((entry) => entry.isFile() && REPLAY_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
    .map((entry) => entry.name)
    .sort(collator.compare)
    .map((name) => path.join(source, name));
  if (files.length === 0) {
    throw new ReplayError('REPLAY_FOLDER_EMPTY', `replay folder ${source} contains no video files; expected one of ${[...REPLAY_EXTENSIONS].join(', ')}`);
  }
  return files;
}
