// The box tracker and the plate vote on scripted detections: a moving object keeps its track id,
// a lost object ends its track only after both the frame and the time limits, and a misread in
// a few frames loses the vote.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoxTracker, DEFAULT_BOX_TRACKER_OPTIONS } from '../agent/tracking/box-tracker.js';
import { PlateVote } from '../agent/tracking/plate-vote.js';
import type { PlateRead } from '../src/vision/cascade.js';
import type { BoxXyxyPx } from '../src/vision/types.js';

function newTracker() {
  let count = 0;
  return new BoxTracker<null>(DEFAULT_BOX_TRACKER_OPTIONS, () => `t${++count}`, () => null);
}

const shifted = (box: BoxXyxyPx, dx: number): BoxXyxyPx => [box[0] + dx, box[1], box[2] + dx, box[3]];

test('box tracker – overlapping boxes keep track', () => {
  const tracker = newTracker();
  const car: BoxXyxyPx = [100, 100, 300, 200];
  const first = tracker.update(0, [car]);
  const second = tracker.update(200, [shifted(car, 30)]);
  assert.equal(second.tracks[0]!.id, first.tracks[0]!.id);
  assert.equal(second.tracks[0]!.frames, 2);
});

test('box tracker – fast object joins by centre', () => {
  const tracker = newTracker();
  const car: BoxXyxyPx = [100, 100, 200, 150];
  const first = tracker.update(0, [car]);
  // A 60 px move leaves an IoU of 0.25, below minIou, and a centre shift of 0.54 diagonals.
  const second = tracker.update(200, [shifted(car, 60)]);
  assert.equal(second.tracks[0]!.id, first.tracks[0]!.id, 'a 60 px move keeps the track by centre distance');
  // A further 90 px is 0.8 diagonals from the last box, but 0.54 from the box the velocity predicts.
  const third = tracker.update(400, [shifted(car, 150)]);
  assert.equal(third.tracks[0]!.id, first.tracks[0]!.id, 'the velocity predicts the next box');
});

test('box tracker – distant box starts new track', () => {
  const tracker = newTracker();
  const first = tracker.update(0, [[100, 100, 200, 150]]);
  const second = tracker.update(200, [[800, 400, 900, 450]]);
  assert.notEqual(second.tracks[0]!.id, first.tracks[0]!.id);
});

test('box tracker – track ends after frame and time limits', () => {
  const tracker = newTracker();
  const car: BoxXyxyPx = [100, 100, 300, 200];
  tracker.update(0, [car]);
  assert.equal(tracker.update(100, []).ended.length, 0);
  assert.equal(tracker.update(200, []).ended.length, 0);
  assert.equal(tracker.update(300, []).ended.length, 0, 'three misses within 1500 ms keep the track');
  const ended = tracker.update(1600, []).ended;
  assert.equal(ended.length, 1);
  assert.equal(ended[0]!.lastSeenAtMs, 0);
  assert.equal(ended[0]!.frames, 1);
});

test('box tracker – two objects keep their own ids', () => {
  const tracker = newTracker();
  const left: BoxXyxyPx = [0, 0, 100, 100];
  const right: BoxXyxyPx = [300, 0, 400, 100];
  const first = tracker.update(0, [left, right]);
  const second = tracker.update(200, [shifted(right, 10), shifted(left, 10)]);
  assert.equal(second.tracks[0]!.id, first.tracks[1]!.id);
  assert.equal(second.tracks[1]!.id, first.tracks[0]!.id);
});

function read(text: string, confidence: number): PlateRead {
  return { text, format: 'civil', color: 'blue', rows: 1, confidence, box: [0, 0, 10, 5], corners: [[0, 0], [10, 0], [10, 5], [0, 5]], detectionScore: 0.9 };
}

test('plate vote – misreads lose to steady reads', () => {
  const vote = new PlateVote();
  for (const [text, confidence] of [['京EA5331', 0.9], ['京EA5381', 0.95], ['京EA5331', 0.8], ['京EA5331', 0.85]] as const) vote.add(read(text, confidence));

  const result = vote.result()!;
  assert.equal(result.text, '京EA5331');
  assert.equal(result.reads, 4);
  assert.ok(Math.abs(result.confidence - (0.9 + 0.8 + 0.85) / 4) < 1e-9);
  assert.equal(result.bestRead.confidence, 0.9);
  assert.deepEqual(result.counts.map((count) => [count.text, count.reads]), [['京EA5331', 3], ['京EA5381', 1]]);
});

test('plate vote – best read needs a margin', () => {
  const vote = new PlateVote();
  assert.equal(vote.add(read('京EA5331', 0.9)), true, 'the first read of a text is its best');
  assert.equal(vote.add(read('京EA5331', 0.905)), false, 'a gain below the margin keeps the old best');
  assert.equal(vote.add(read('京EA5331', 0.95)), true);
  assert.equal(vote.result()!.bestRead.confidence, 0.95);
});

test('box tracker – long gap starts new track', () => {
  const tracker = newTracker();
  const car: BoxXyxyPx = [100, 100, 300, 200];
  const first = tracker.update(0, [car]);
  const later = tracker.update(DEFAULT_BOX_TRACKER_OPTIONS.maxGapMs + 1, [car]);
  assert.equal(later.ended.length, 1, 'the old track ends');
  assert.equal(later.ended[0]!.id, first.tracks[0]!.id);
  assert.notEqual(later.tracks[0]!.id, first.tracks[0]!.id, 'the same box after the gap starts a new track');
});
