// Plate hotlist: normalisation, CSV and JSON parsing, and errors that name the offending line or entry.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Hotlist, HotlistError, loadHotlistFile, normalisePlateText, parseHotlistCsv, parseHotlistJson } from '../src/matching/hotlist.js';

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
  assertHotlistError(() => parseHotlistCsv('plate,reason,priority\n川A8H458,stolen,1\n京EA5331,unpaid tolls\n'), 'HOTLIST_INVALID_ROW', /line 3: should have 3 fields.*instead got 2/);
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
