// Plate hotlist: loading entries from a JSON or CSV file and exact lookup on normalised plate text.
// Matching events against it and raising hits is the central service's job.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

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
}

export type HotlistErrorCode = 'HOTLIST_READ_FAILED' | 'HOTLIST_INVALID_ROW' | 'HOTLIST_DUPLICATE_PLATE' | 'HOTLIST_INVALID_JSON';

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

const EntryInputSchema = z.strictObject({
  plate: z.string({ error: 'should be text' }).min(1, 'should not be empty').max(32, 'should be at most 32 characters'),
  reason: z.string({ error: 'should be text' }).min(1, 'should not be empty').max(200, 'should be at most 200 characters'),
  priority: HotlistPrioritySchema,
});

/** Plate hotlist with exact lookup on normalised text. */
export class Hotlist {
  private readonly byPlate: ReadonlyMap<string, HotlistEntry>;

  constructor(entries: readonly HotlistEntry[]) {
    const byPlate = new Map<string, HotlistEntry>();
    entries.forEach((entry, index) => {
      const plate = normalisePlateText(entry.plate);
      if (byPlate.has(plate)) {
        throw new HotlistError('HOTLIST_DUPLICATE_PLATE', `hotlist entry ${index} repeats an earlier plate after normalisation; keep one entry per plate`);
      }
      byPlate.set(plate, { ...entry, plate });
    });
    this.byPlate = byPlate;
  }

  get size(): number {
    return this.byPlate.size;
  }

  /** Returns the entry whose normalised plate equals the normalised text, or null. */
  match(plateText: string): HotlistEntry | null {
    return this.byPlate.get(normalisePlateText(plateText)) ?? null;
  }
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

/**
 * Parses CSV with columns `plate,reason,priority`. A first line equal to that header is skipped,
 * blank lines are ignored, and fields may be double-quoted (with `""` for a quote) so a reason can
 * contain commas. Quoted fields cannot span lines. Errors name the 1-based line number.
 */
export function parseHotlistCsv(text: string, source = 'hotlist'): HotlistEntry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const entries: HotlistEntry[] = [];
  const lineNumbers: number[] = [];

  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    const where = `${source} line ${lineNumber}`;
    const fields = splitCsvLine(line, where);
    if (index === 0 && fields.map((field) => field.trim().toLowerCase()).join(',') === 'plate,reason,priority') return;
    entries.push(csvFieldsToEntry(fields, where));
    lineNumbers.push(lineNumber);
  });

  return rejectDuplicates(entries, (index) => `line ${lineNumbers[index]}`, source);
}

function csvFieldsToEntry(fields: string[], where: string): HotlistEntry {
  if (fields.length !== 3) {
    throw new HotlistError('HOTLIST_INVALID_ROW', `${where}: should have 3 fields (plate,reason,priority), instead got ${fields.length}`);
  }
  const [plate, reason, priorityText] = fields.map((field) => field.trim()) as [string, string, string];
  const priority = /^\d+$/.test(priorityText) ? Number(priorityText) : Number.NaN;
  const parsed = EntryInputSchema.safeParse({ plate, reason, priority });
  if (!parsed.success) {
    throw new HotlistError('HOTLIST_INVALID_ROW', `${where}: ${describeIssues(parsed.error)}`);
  }
  return toEntry(parsed.data, where);
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
  return { plate, reason: input.reason, priority: input.priority };
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
