// The log throttle: one line per key and interval, carrying the occurrences since the last line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogThrottle } from '../src/common/log-throttle.js';

test('log throttle – one line per interval', () => {
  let nowMs = 1000;
  const throttle = new LogThrottle(60_000, () => nowMs);
  assert.equal(throttle.take('a'), 1, 'the first occurrence gets a line');
  assert.equal(throttle.take('a', 3), null);
  assert.equal(throttle.take('b'), 1, 'keys are throttled separately');
  nowMs += 59_999;
  assert.equal(throttle.take('a'), null);
  nowMs += 1;
  assert.equal(throttle.take('a', 2), 6, 'the next line counts everything since the last one');
  assert.equal(throttle.take('a'), null);
});
