// Plate hotlist: loading entries from a JSON or CSV file, and lookup on normalised plate text, exact
// or tolerant of OCR confusions (see plate-tolerance.ts). Raising hits is the central service's job.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { foldConfusions, provinceFreeCandidates, provinceFreeKey } from './plate-tolerance.js';

/** Priority of a hotlist entry: 1 is the most urgent, 5 the least. */
export const HotlistPrioritySchema = z
  .number({ error: 'should be an integer from 1 to 5' })
  .int({ error: 'should be an integer from 1 to 5' })
  .min(1, { error: 'should be an integer from 1 to 5' })
  .max(5, { error: 'should be an integer from 1 to 5' });

export interface HotlistEntry {
  /** Plate text in normalised form (see normalisePlateText). */
  plate: string;
  reason: string;
  priority: number;
  /** Central clock, ms since the epoch, after which the entry no longer matches; absent or null for no expiry. */
  expiresAtMs?: number | null;
}

/** A hotlist entry found for a plate read, and whether the read equals it or only resembles it. */
export interface PlateMatch {
  entry: HotlistEntry;
  kind: 'exact' | 'tolerant';
}

export type HotlistErrorCode = 'HOTLIST_READ_FAILED' | 'HOTLIST_INVALID_ROW' | 'HOTLIST_DUPLICATE_PLATE' | 'HOTLIST_INVALID_JSON' | 'HOTLIST_INVALID_EXPIRY';

export class HotlistError extends Error {
  override readonly name = 'HotlistError';
  constructor(
    readonly code: HotlistErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Normalises plate text for comparison: Unicode NFKC (full-width letters and digits become ASCII),
 * upper case, and no whitespace, dots (including the middle dot in "京A·12345") or hyphens.
 */
export function normalisePlateText(text: string): string {
  return text
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s.\u00B7\u30FB\-\u2010-\u2015]/g, '');
}

export const EntryInputSchema = z.strictObject({
  plate: z.string({ error: 'should be text' }).min(1, 'should not be empty').max(32, 'should be at most 32 characters'),
  reason: z.string({ error: 'should be text' }).min(1, 'should not be empty').max(200, 'should be at most 200 characters'),
  priority: HotlistPrioritySchema,
  expiresAtMs: z.number({ error: 'should be ms since the epoch' }).finite().nonnegative().nullable().optional(),
});

/** Plate hotlist with exact and tolerant lookup on normalised text. */
export class Hotlist {
  private readonly byPlate: ReadonlyMap<string, HotlistEntry>;
  private readonly byFolded = new Map<string, HotlistEntry[]>();
  private readonly byProvinceFree = new Map<string, HotlistEntry[]>();

  constructor(entries: readonly HotlistEntry[]) {
    const byPlate = new Map<string, HotlistEntry>();
    entries.forEach((entry, index) => {
      const plate = normalisePlateText(entry.plate);
      if (byPlate.has(plate)) {
        throw new HotlistError('HOTLIST_DUPLICATE_PLATE', `hotlist entry ${index} repeats an earlier plate after normalisation; keep one entry per plate`);
      }
      const normalised = { ...entry, plate };
      byPlate.set(plate, normalised);
      appendTo(this.byFolded, foldConfusions(plate), normalised);
      const provinceFree = provinceFreeKey(plate);
      if (provinceFree !== null) appendTo(this.byProvinceFree, provinceFree, normalised);
    });
    this.byPlate = byPlate;
  }

  get size(): number {
    return this.byPlate.size;
  }

  /** Returns every entry, expired ones included. */
  entries(): HotlistEntry[] {
    return [...this.byPlate.values()];
  }

  /** Returns the unexpired entry whose normalised plate equals the normalised text, or null. */
  match(plateText: string, nowMs = Date.now()): HotlistEntry | null {
    const entry = this.byPlate.get(normalisePlateText(plateText));
    return entry !== undefined && isActive(entry, nowMs) ? entry : null;
  }

  /**
   * Finds the entry for a plate read: an exact match first, otherwise a tolerant one that allows the
   * OCR confusions of plate-tolerance.ts and an unreadable or missing province character. Among
   * several tolerant candidates the most urgent (lowest priority number) wins. Expired entries never match.
   */
  lookup(plateText: string, nowMs = Date.now()): PlateMatch | null {
    const read = normalisePlateText(plateText);
    const exact = this.match(read, nowMs);
    if (exact !== null) return { entry: exact, kind: 'exact' };

    const candidates = [...(this.byFolded.get(foldConfusions(read)) ?? [])];
    for (const key of provinceFreeCandidates(read)) candidates.push(...(this.byProvinceFree.get(key) ?? []));
    const best = mostUrgent(candidates.filter((entry) => isActive(entry, nowMs)));
    return best === null ? null : { entry: best, kind: 'tolerant' };
  }
}

function appendTo(map: Map<string, HotlistEntry[]>, key: string, entry: HotlistEntry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else list.push(entry);
}

function isActive(entry: HotlistEntry, nowMs: number): boolean {
  return entry.expiresAtMs === undefined || entry.expiresAtMs === null || entry.expiresAtMs > nowMs;
}

function mostUrgent(entries: readonly HotlistEntry[]): HotlistEntry | null {
  let best: HotlistEntry | null = null;
  for (const entry of entries) {
    if (best === null || entry.priority < best.priority || (entry.priority === best.priority && entry.plate < best.plate)) best = entry;
  }
  return best;
}

/** Loads a hotlist from a `.json` file (array of entries) or a `.csv` file (`plate,reason,priority`). */
export function loadHotlistFile(filePath: string): Hotlist {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new HotlistError('HOTLIST_READ_FAILED', `could not read hotlist file ${filePath}: ${(error as Error).message}`, { cause: error });
  }

  const extension = path.extname(filePath).toLowerCase();
  if (extension === '.json') return new Hotlist(parseHotlistJson(text, filePath));
  if (extension === '.csv') return new Hotlist(parseHotlistCsv(text, filePath));
  throw new HotlistError('HOTLIST_READ_FAILED', `hotlist file ${filePath} should end in .json or .csv, instead got "${extension}"`);
}

/** Parses a JSON array of `{ plate, reason, priority }`; errors name the array index and field. */
export function parseHotlistJson(text: string, source = 'hotlist'): HotlistEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HotlistError('HOTLIST_INVALID_JSON', `${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(json)) {
    throw new HotlistError('HOTLIST_INVALID_JSON', `${source} should contain a JSON array of entries, instead got ${typeof json}`);
  }

  return parseHotlistEntries(json, source);
}

/** Validates hotlist entries given as objects, for example inline in a config file. */
export function parseHotlistEntries(items: readonly unknown[], source = 'hotlist'): HotlistEntry[] {
  const entries = items.map((item, index) => {
    const parsed = EntryInputSchema.safeParse(item);
    if (!parsed.success) {
      throw new HotlistError('HOTLIST_INVALID_ROW', `${source} entry ${index}: ${describeIssues(parsed.error)}`);
    }
    return toEntry(parsed.data, `${source} entry ${index}`);
  });
  return rejectDuplicates(entries, (index) => `entry ${index}`, source);
}

/** One CSV line that an import rejected, with the reason; reasons never contain the plate text. */
export interface RejectedLine {
  /** 1-based line number in the file. */
  line: number;
  code: HotlistErrorCode;
  reason: string;
}

export interface HotlistCsvReport {
  entries: HotlistEntry[];
  rejected: RejectedLine[];
}

const CSV_HEADERS = new Set(['plate,reason,priority', 'plate,reason,priority,expires']);

/**
 * Parses CSV with columns `plate,reason,priority[,expires]` and reports every line it rejects
 * instead of stopping at the first. A first line equal to a header is skipped, blank lines are
 * ignored, and fields may be double-quoted (with `""` for a quote) so a reason can contain commas.
 * Quoted fields cannot span lines. `expires` is empty or an ISO 8601 time with an offset; with nowMs,
 * an entry that has already expired is rejected. A plate repeating an earlier line is rejected.
 */
export function parseHotlistCsvReport(text: string, options: { source?: string; nowMs?: number } = {}): HotlistCsvReport {
  const source = options.source ?? 'hotlist';
  const entries: HotlistEntry[] = [];
  const rejected: RejectedLine[] = [];
  const firstLineOfPlate = new Map<string, number>();

  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    const where = `${source} line ${lineNumber}`;
    try {
      const fields = splitCsvLine(line, where);
      if (index === 0 && CSV_HEADERS.has(fields.map((field) => field.trim().toLowerCase()).join(','))) return;
      const entry = csvFieldsToEntry(fields, where, options.nowMs);
      const earlier = firstLineOfPlate.get(entry.plate);
      if (earlier !== undefined) {
        throw new HotlistError('HOTLIST_DUPLICATE_PLATE', `${where}: plate repeats line ${earlier}; keep one entry per plate`);
      }
      firstLineOfPlate.set(entry.plate, lineNumber);
      entries.push(entry);
    } catch (error) {
      if (!(error instanceof HotlistError)) throw error;
      rejected.push({ line: lineNumber, code: error.code, reason: error.message });
    }
  });
  return { entries, rejected };
}

/** Parses a hotlist CSV (see parseHotlistCsvReport) and throws for the first rejected line. */
export function parseHotlistCsv(text: string, source = 'hotlist'): HotlistEntry[] {
  const report = parseHotlistCsvReport(text, { source });
  const [first] = report.rejected;
  if (first !== undefined) throw new HotlistError(first.code, first.reason);
  return report.entries;
}

function csvFieldsToEntry(fields: string[], where: string, nowMs: number | undefined): HotlistEntry {
  if (fields.length !== 3 && fields.length !== 4) {
    throw new HotlistError('HOTLIST_INVALID_ROW', `${where}: should have 3 or 4 fields (plate,reason,priority[,expires]), instead got ${fields.length}`);
  }
  const [plate, reason, priorityText, expiresText = ''] = fields.map((field) => field.trim()) as [string, string, string, string?];
  const priority = /^\d+$/.test(priorityText) ? Number(priorityText) : Number.NaN;
  const expiresAtMs = parseExpiry(expiresText, where, nowMs);
  const parsed = EntryInputSchema.safeParse({ plate, reason, priority, expiresAtMs });
  if (!parsed.success) {
    throw new HotlistError('HOTLIST_INVALID_ROW', `${where}: ${describeIssues(parsed.error)}`);
  }
  return toEntry(parsed.data, where);
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an expiry column: empty for none, otherwise an ISO 8601 time with an explicit offset. */
function parseExpiry(text: string, where: string, nowMs: number | undefined): number | null {
  if (text === '') return null;
  const expiresAtMs = ISO_WITH_OFFSET.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(expiresAtMs)) {
    throw new HotlistError('HOTLIST_INVALID_EXPIRY', `${where}: expires should be an ISO 8601 time with an offset, such as 2026-12-31T23:59:59+08:00, instead got ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (nowMs !== undefined && expiresAtMs <= nowMs) {
    throw new HotlistError('HOTLIST_INVALID_EXPIRY', `${where}: expires ${text} is already past; remove the line or give a later time`);
  }
  return expiresAtMs;
}

/** Splits one CSV line into fields, honouring double quotes. */
function splitCsvLine(line: string, where: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  if (quoted) throw new HotlistError('HOTLIST_INVALID_ROW', `${where}: a quoted field is not closed; close it with "`);
  fields.push(field);
  return fields;
}

function toEntry(input: z.infer<typeof EntryInputSchema>, where: string): HotlistEntry {
  const plate = normalisePlateText(input.plate);
  if (plate.length < 2 || plate.length > 16) {
    throw new HotlistError('HOTLIST_INVALID_ROW', `${where}: plate should have 2-16 characters after removing spaces, dots and hyphens, instead got ${plate.length}`);
  }
  const entry: HotlistEntry = { plate, reason: input.reason, priority: input.priority };
  if (input.expiresAtMs !== undefined && input.expiresAtMs !== null) entry.expiresAtMs = input.expiresAtMs;
  return entry;
}

function rejectDuplicates(entries: HotlistEntry[], describe: (index: number) => string, source: string): HotlistEntry[] {
  const firstIndex = new Map<string, number>();
  entries.forEach((entry, index) => {
    const earlier = firstIndex.get(entry.plate);
    if (earlier !== undefined) {
      throw new HotlistError('HOTLIST_DUPLICATE_PLATE', `${source} ${describe(index)}: plate repeats ${describe(earlier)}; keep one entry per plate`);
    }
    firstIndex.set(entry.plate, index);
  });
  return entries;
}

/** Names the failing fields without their values; plate texts stay out of error messages. */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(entry)'} ${issue.message}`).join('; ');
}
