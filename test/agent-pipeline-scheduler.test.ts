// The frame scheduler: live cameras keep their newest frame and count drops, replayed cameras wait
// for room instead, and cameras take turns so a busy camera cannot starve a quiet one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameScheduler } from '../agent/pipeline/scheduler.js';

interface TestFrame {
  cameraId: string;
  receivedAtMs: number;
  index: number;
}

const frame = (cameraId: string, index: number): TestFrame => ({ cameraId, receivedAtMs: 1000 + index, index });

test('scheduler – live camera keeps newest frame', async () => {
  const scheduler = new FrameScheduler<TestFrame>();
  assert.equal(scheduler.submit(frame('a', 1)), false);
  assert.equal(scheduler.submit(frame('a', 2)), true);
  assert.equal(scheduler.submit(frame('a', 3)), true);

  const next = await scheduler.next();
  assert.equal(next?.index, 3);
  assert.equal(scheduler.droppedByCamera.get('a'), 2);
  assert.equal(scheduler.depth('a'), 0);
});

test('scheduler – cameras take turns', async () => {
  const scheduler = new FrameScheduler<TestFrame>(4);
  for (let i = 0; i < 3; i++) await scheduler.offer(frame('busy', i));
  await scheduler.offer(frame('quiet', 0));

  const order: string[] = [];
  for (let i = 0; i < 4; i++) order.push((await scheduler.next())!.cameraId);
  assert.deepEqual(order, ['busy', 'quiet', 'busy', 'busy']);
});

test('scheduler – offer waits for room', async () => {
  const scheduler = new FrameScheduler<TestFrame>(2);
  await scheduler.offer(frame('replay', 0));
  await scheduler.offer(frame('replay', 1));
  let thirdQueued = false;
  const third = scheduler.offer(frame('replay', 2)).then(() => (thirdQueued = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(thirdQueued, false, 'a third frame should wait while two are queued');
  assert.equal(scheduler.depth('replay'), 2);

  assert.equal((await scheduler.next())?.index, 0);
  await third;
  assert.equal(thirdQueued, true);
  assert.equal((await scheduler.next())?.index, 1);
  assert.equal((await scheduler.next())?.index, 2);
  assert.equal(scheduler.droppedByCamera.get('replay') ?? 0, 0, 'no replayed frame is dropped');
});

test('scheduler – waiting takers all get frames', async () => {
  const scheduler = new FrameScheduler<TestFrame>();
  const takers = [scheduler.next(), scheduler.next()];
  scheduler.submit(frame('a', 0));
  scheduler.submit(frame('b', 0));
  const taken = await Promise.all(takers);
  assert.deepEqual(taken.map((f) => f?.cameraId).sort(), ['a', 'b']);
});

test('scheduler – close releases waiters', async () => {
  const scheduler = new FrameScheduler<TestFrame>(1);
  await scheduler.offer(frame('replay', 0));
  const blocked = scheduler.offer(frame('replay', 1));
  const taker = new FrameScheduler<TestFrame>();
  const waitingNext = taker.next();

  scheduler.close();
  taker.close();
  await blocked;
  assert.equal(await waitingNext, null);
  assert.equal(await scheduler.next(), null, 'frames still waiting at close are discarded');
});

test('scheduler – frames numbered in camera order', async () => {
  const scheduler = new FrameScheduler<TestFrame>(4);
  for (let i = 0; i < 3; i++) await scheduler.offer(frame('a', i));
  await scheduler.offer(frame('b', 0));
  const taken = await Promise.all([scheduler.next(), scheduler.next(), scheduler.next(), scheduler.next()]);
  const sequences = taken.map((f) => `${f!.cameraId}${f!.index}:${scheduler.sequenceOf(f!)}`);
  assert.deepEqual(sequences.sort(), ['a0:0', 'a1:1', 'a2:2', 'b0:0']);
  assert.throws(() => scheduler.sequenceOf(frame('a', 9)), /not handed out/);
});
