// Operator decisions through the central service on the real Mosquitto and SQLite: confirming and
// dismissing with reasons and audit entries, and a dismissed face that stops raising the same false
// hit while the real subject still does. Also the tolerant plate hit an operator sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { eventTopic } from '../src/protocol/topics.js';
import { DecisionError } from '../src/central/decisions.js';
import { StoreError } from '../src/central/store/store.js';
import { faceEventFor, plateEventFor, waitUntil } from './support/central-load.js';
import { openTestStore } from './support/central-stores.js';
import { BROKER_URL, counterValue, startInstance, uniqueId } from './support/central-instance.js';

/** Unit vector along `axis`, tilted towards `tiltAxis`; cosines between such vectors are easy to compute by hand. */
function axisVector(axis: number, tilt = 0, tiltAxis = axis + 1): Float32Array {
  const vector = new Float32Array(128);
  vector[axis] = 1;
  vector[tiltAxis] = tilt;
  const norm = Math.hypot(1, tilt);
  return vector.map((value) => value / norm);
}

test('decisions – dismissed face stops matching', async () => {
  const database = await openTestStore('sqlite');
  const instance = await startInstance({
    store: database.store,
    shareGroup: uniqueId('test'),
    hitCooldownMs: 0,
    subjects: [{ subjectId: 'subject-x', listId: 'default', label: 'subject x', embeddings: [axisVector(0)] }],
  });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const carId = uniqueId('car');
  const send = async (seq: number, embedding: Float32Array): Promise<void> => {
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(faceEventFor(carId, seq, embedding)), { qos: 1 });
    await waitUntil(() => instance.ingested.length === seq, `face event ${seq}`);
  };
  try {
    // The stranger resembles subject x (cos 0.6 with a tilt of 1.333) and resembles their own
    // earlier sighting much more.
    await send(1, axisVector(0, 1.333, 5));
    assert.equal(instance.hits.length, 1, 'the stranger first raises a false hit');
    const falseHit = instance.hits[0]!;

    const watchlistVersion = await database.store.listVersion('watchlist');
    const dismissed = await instance.service.dismissHit(falseHit.hitId, 'op1', 'not the subject');
    assert.equal(dismissed.decision?.decision, 'dismissed');
    assert.equal(dismissed.decision?.decidedBy, 'op1');
    assert.equal(dismissed.decision?.reason, 'not the subject');
    assert.equal((await database.store.listFaceNegatives()).length, 1);
    assert.equal(await database.store.listVersion('watchlist'), watchlistVersion + 1);
    const [audit] = await database.store.listAudit({ action: 'hit.dismiss' });
    assert.equal(audit?.actor, 'op1');
    assert.equal(audit?.target, falseHit.hitId);
    assert.equal(audit?.reason, 'not the subject');
    assert.equal(audit?.details?.negativeKept, true);

    await send(2, axisVector(0, 1.4, 5));
    assert.equal(instance.hits.length, 1, 'the same stranger does not raise the false hit again');
    assert.equal(await counterValue(instance.registry, 'patrol_central_faces_suppressed_total'), 1);

    await send(3, axisVector(0, 0.2, 9));
    assert.equal(instance.hits.length, 2, 'subject x still raises a hit');
    assert.equal(instance.hits[1]!.matched.subjectId, 'subject-x');
  } finally {
    await publisher.endAsync();
    await instance.stop();
    await database.cleanup();
  }
});

test('decisions – confirm once, with a reason', async () => {
  const database = await openTestStore('sqlite');
  const instance = await startInstance({ store: database.store, shareGroup: uniqueId('test'), hotlist: [{ plate: '川A8H458', reason: 'stolen vehicle', priority: 1 }] });
  const publisher = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5 });
  const carId = uniqueId('car');
  try {
    await publisher.publishAsync(eventTopic(carId), JSON.stringify(plateEventFor(carId, 1, '?A8H45B')), { qos: 1 });
    await waitUntil(() => instance.hits.length === 1, 'the tolerant plate hit');
    const hit = instance.hits[0]!;
    assert.equal(hit.matchKind, 'tolerant');
    assert.equal(hit.matched.plate, '川A8H458');
    assert.equal(hit.matched.readPlate, '?A8H45B');

    await assert.rejects(instance.service.confirmHit(hit.hitId, 'op1', '  '), (error: unknown) => error instanceof DecisionError && error.code === 'DECISION_REASON_MISSING');
    const confirmed = await instance.service.confirmHit(hit.hitId, 'op1', 'car stopped, plate checked');
    assert.equal(confirmed.decision?.decision, 'confirmed');
    assert.equal((await database.store.getHit(hit.hitId))?.decision?.decidedBy, 'op1');
    await assert.rejects(instance.service.dismissHit(hit.hitId, 'op2', 'second opinion'), (error: unknown) => error instanceof StoreError && error.code === 'STORE_HIT_ALREADY_DECIDED');
    await assert.rejects(instance.service.confirmHit('no-such-hit', 'op1', 'x'), (error: unknown) => error instanceof StoreError && error.code === 'STORE_HIT_NOT_FOUND');
    assert.deepEqual((await database.store.listAudit({ target: hit.hitId })).map((entry) => [entry.action, entry.actor]), [['hit.confirm', 'op1']]);
    assert.deepEqual(await database.store.listFaceNegatives(), [], 'a plate decision keeps no negative');
  } finally {
    await publisher.endAsync();
    await instance.stop();
    await database.cleanup();
  }
});
