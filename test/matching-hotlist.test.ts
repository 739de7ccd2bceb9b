// Plate hotlist: normalisation, CSV and JSON parsing, and errors that name the offending line or entry.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Hotlist, HotlistError, loadHotlistFile, normalisePlateText, parseHotlistCsv, parseHotlistCsvReport, parseHotlistJson } from '../src/matching/hotlist.js';
import { foldConfusions } from '../src/matching/plate-tolerance.js';

function assertHotlistError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof HotlistError, `expected HotlistError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

test('hotlist – normalises case, spaces, dots and hyphens', () => {
  assert.equal(normalisePlateText('川a 8h-458'), '川A8H458');
  assert.equal(normalisePlateText('京A·12345'), '京A12345');
  assert.equal(normalisePlateText('ab.12\t3'), 'AB123');
  assert.equal(normalisePlateText('ＡＢ１２３'), 'AB123', 'full-width letters and digits become ASCII');
});

test('hotlist – matches exactly on normalised text', () => {
  const hotlist = new Hotlist([{ plate: '川A8H458', reason: 'stolen vehicle', priority: 1 }]);
  assert.deepEqual(hotlist.match('川a 8H-458'), { plate: '川A8H458', reason: 'stolen vehicle', priority: 1 });
  assert.equal(hotlist.match('川A8H45'), null, 'a prefix is not a match');
  assert.equal(hotlist.match('川A8H4588'), null, 'a longer plate is not a match');
  assert.equal(hotlist.match('川A8H45?'), null, 'an unreadable character never matches');
});

test('hotlist – parses CSV with header, quotes and blank lines', () => {
  const csv = 'plate,reason,priority\r\n川A8H458,"stolen, then resprayed",1\r\n\r\n京EA-5331 , unpaid tolls ,3\r\n"粤B""88888",odd quote,2\r\n';
  const entries = parseHotlistCsv(csv);
  assert.deepEqual(entries, [
    { plate: '川A8H458', reason: 'stolen, then resprayed', priority: 1 },
    { plate: '京EA5331', reason: 'unpaid tolls', priority: 3 },
    { plate: '粤B"88888', reason: 'odd quote', priority: 2 },
  ]);
});

test('hotlist – CSV errors name the line', () => {
  assertHotlistError(() => parseHotlistCsv('plate,reason,priority\n川A8H458,stolen,1\n京EA5331,unpaid tolls\n'), 'HOTLIST_INVALID_ROW', /line 3: should have 3 or 4 fields.*instead got 2/);
  assertHotlistError(() => parseHotlistCsv('川A8H458,stolen,1\n\n京EA5331,unpaid tolls,high\n'), 'HOTLIST_INVALID_ROW', /line 3: priority should be an integer from 1 to 5/);
  assertHotlistError(() => parseHotlistCsv('川A8H458,stolen,9\n'), 'HOTLIST_INVALID_ROW', /line 1: priority should be an integer from 1 to 5/);
  assertHotlistError(() => parseHotlistCsv('川A8H458,,1\n'), 'HOTLIST_INVALID_ROW', /line 1: reason should not be empty/);
  assertHotlistError(() => parseHotlistCsv('- - -,stolen,1\n'), 'HOTLIST_INVALID_ROW', /line 1: plate should have 2-16 characters/);
  assertHotlistError(() => parseHotlistCsv('"川A8H458,stolen,1\n'), 'HOTLIST_INVALID_ROW', /line 1: a quoted field is not closed/);
  assertHotlistError(() => parseHotlistCsv('川A8H458,stolen,1\n京EA5331,tolls,2\n川a 8h458,again,3\n'), 'HOTLIST_DUPLICATE_PLATE', /line 3: plate repeats line 1/);
});

test('hotlist – CSV errors never echo plate text', () => {
  assert.throws(() => parseHotlistCsv('川A8H458,stolen,urgent\n'), (error: Error) => !error.message.includes('川A8H458'));
});

test('hotlist – JSON errors name the entry', () => {
  assert.deepEqual(parseHotlistJson('[{"plate":"川A8H458","reason":"stolen","priority":1}]'), [{ plate: '川A8H458', reason: 'stolen', priority: 1 }]);
  assertHotlistError(() => parseHotlistJson('{"plate":"x"}'), 'HOTLIST_INVALID_JSON', /should contain a JSON array/);
  assertHotlistError(() => parseHotlistJson('[{"plate":"川A8H458"'), 'HOTLIST_INVALID_JSON', /not valid JSON/);
  assertHotlistError(
    () => parseHotlistJson('[{"plate":"川A8H458","reason":"stolen","priority":1},{"plate":"京EA5331","reason":"tolls","priority":1.5}]'),
    'HOTLIST_INVALID_ROW',
    /entry 1: priority should be an integer/,
  );
  assertHotlistError(() => parseHotlistJson('[{"plate":"川A8H458","reason":"stolen","priority":1,"colour":"red"}]'), 'HOTLIST_INVALID_ROW', /entry 0/);
});

test('hotlist – loads CSV and JSON files by extension', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotlist-'));
  try {
    const csvPath = path.join(dir, 'hot.csv');
    writeFileSync(csvPath, 'plate,reason,priority\n川A8H458,stolen vehicle,1\n');
    const jsonPath = path.join(dir, 'hot.json');
    writeFileSync(jsonPath, JSON.stringify([{ plate: '京EA5331', reason: 'unpaid tolls', priority: 3 }]));

    assert.equal(loadHotlistFile(csvPath).match('川A8H458')?.reason, 'stolen vehicle');
    assert.equal(loadHotlistFile(jsonPath).match('京EA5331')?.priority, 3);
    assertHotlistError(() => loadHotlistFile(path.join(dir, 'hot.txt')), 'HOTLIST_READ_FAILED', /could not read/);
    writeFileSync(path.join(dir, 'hot.txt'), '');
    assertHotlistError(() => loadHotlistFile(path.join(dir, 'hot.txt')), 'HOTLIST_READ_FAILED', /should end in \.json or \.csv/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hotlist – folds the usual OCR confusions', () => {
  assert.equal(foldConfusions('0DQO'), '0000');
  assert.equal(foldConfusions('8B1I5S2Z'), '88115522');
  assert.equal(foldConfusions('川A7H4C6'), '川A7H4C6', 'other characters stay as they are');
});

test('hotlist – tolerant lookup reports the match kind', () => {
  const hotlist = new Hotlist([
    { plate: '川A8H458', reason: 'stolen vehicle', priority: 2 },
    { plate: '京EA5331', reason: 'unpaid tolls', priority: 3 },
  ]);
  const cases: Array<[string, string | null, 'exact' | 'tolerant' | null]> = [
    ['川A8H458', '川A8H458', 'exact'],
    ['川A BH-4S8', '川A8H458', 'tolerant'],
    ['京EA5331', '京EA5331', 'exact'],
    ['京EAS33I', '京EA5331', 'tolerant'],
    ['京E45331', null, null],
    ['?A8H458', '川A8H458', 'tolerant'],
    ['A8H458', '川A8H458', 'tolerant'],
    ['?A8H45B', '川A8H458', 'tolerant'],
    ['沪A8H458', null, null],
    ['川A8H45?', null, null],
    ['?A8', null, null],
  ];
  for (const [read, plate, kind] of cases) {
    const found = hotlist.lookup(read, 0);
    assert.equal(found?.entry.plate ?? null, plate, `read ${read}: entry`);
    assert.equal(found?.kind ?? null, kind, `read ${read}: match kind`);
  }
});

test('hotlist – tolerant lookup prefers the most urgent entry', () => {
  const hotlist = new Hotlist([
    { plate: '川A8H458', reason: 'unpaid tolls', priority: 4 },
    { plate: '渝A8H458', reason: 'armed suspect', priority: 1 },
  ]);
  assert.equal(hotlist.lookup('?A8H458', 0)?.entry.plate, '渝A8H458');
  assert.equal(hotlist.lookup('川A8H458', 0)?.entry.plate, '川A8H458', 'an exact match beats a more urgent tolerant one');
});

test('hotlist – expired entries never match', () => {
  const hotlist = new Hotlist([{ plate: '川A8H458', reason: 'stolen vehicle', priority: 1, expiresAtMs: 10_000 }]);
  assert.equal(hotlist.lookup('川A8H458', 9_999)?.kind, 'exact');
  assert.equal(hotlist.lookup('川A8H458', 10_000), null);
  assert.equal(hotlist.lookup('?A8H458', 10_001), null);
  assert.equal(hotlist.match('川A8H458', 10_001), null);
});

test('hotlist – CSV import reports rejected lines', () => {
  const csv = [
    'plate,reason,priority,expires',
    '川A8H458,stolen vehicle,1,2099-12-31T23:59:59+08:00',
    '京EA5331,unpaid tolls,3,',
    '沪B12345,no priority',
    '粤B88888,bad expiry,2,2099-12-31',
    '苏E12345,already over,2,2001-01-01T00:00:00Z',
    '川a 8h458,again,2',
    '"浙A11111,open quote,1',
    '闽D22222,"reason, with comma",9',
  ].join('\n');
  const report = parseHotlistCsvReport(csv, { nowMs: Date.parse('2026-01-01T00:00:00Z') });
  assert.deepEqual(report.entries, [
    { plate: '川A8H458', reason: 'stolen vehicle', priority: 1, expiresAtMs: Date.parse('2099-12-31T15:59:59Z') },
    { plate: '京EA5331', reason: 'unpaid tolls', priority: 3 },
  ]);
  assert.deepEqual(report.rejected.map((line) => [line.line, line.code]), [
    [4, 'HOTLIST_INVALID_ROW'],
    [5, 'HOTLIST_INVALID_EXPIRY'],
    [6, 'HOTLIST_INVALID_EXPIRY'],
    [7, 'HOTLIST_DUPLICATE_PLATE'],
    [8, 'HOTLIST_INVALID_ROW'],
    [9, 'HOTLIST_INVALID_ROW'],
  ]);
  assert.match(report.rejected[1]!.reason, /expires should be an ISO 8601 time with an offset/);
  assert.match(report.rejected[2]!.reason, /already past/);
  assert.match(report.rejected[3]!.reason, /line 7: plate repeats line 2/);
  for (const line of report.rejected) assert.ok(!/[沪粤苏浙闽]/.test(line.reason), `line ${line.line}: reasons must not contain plate text`);
});
