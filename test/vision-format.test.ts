// Table test of the plate format check that keeps truck lettering and misreads out of the results.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyPlate, type PlateFormat } from '../src/vision/plates/format.js';

const VALID: ReadonlyArray<readonly [string, PlateFormat]> = [
  ['川A8H458', 'civil'],
  ['皖K66666', 'civil'],
  ['京EA5331', 'civil'],
  ['闽EVL838', 'civil'],
  ['粤BD01366', 'new-energy'],
  ['青A00109D', 'new-energy'],
  ['苏ED51712', 'new-energy'],
  ['皖KD01833', 'new-energy'],
  ['沪AF12345', 'new-energy'],
  ['京A1234挂', 'trailer'],
  ['琼A6716学', 'learner'],
  ['京A0001警', 'police'],
  ['使198476', 'embassy'],
  ['沪A1707领', 'consulate'],
  ['粤ZEV52港', 'hk-macau'],
  ['粤Z1234澳', 'hk-macau'],
  ['民航A1234', 'civil-aviation'],
  ['WJ1693015', 'armed-police'],
  ['WJ京1234X', 'armed-police'],
  ['WJ12345', 'armed-police'],
  ['VA30093', 'military'],
  ['GA13189', 'military'],
  ['KA12345', 'military'],
  ['皖1946673', 'tractor'],
];

const INVALID: readonly string[] = [
  '',
  '粤',
  '川AN766',
  '危B险0',
  '陕9NWNM08',
  '晋D21',
  'A75',
  'LX8170',
  'SN6497',
  '京I12345',
  '京AO1234',
  '京A12345X',
  'XA12345',
  'WJ123',
  '使19847',
  '粤A1234港',
  '港A12345',
  '京A123456',
];

test('classifyPlate – accepts every valid format', () => {
  for (const [text, format] of VALID) {
    assert.equal(classifyPlate(text), format, `${text} should be ${format}`);
  }
});

test('classifyPlate – rejects lettering and misreads', () => {
  for (const text of INVALID) {
    assert.equal(classifyPlate(text), null, `${text} should fit no plate format`);
  }
});
