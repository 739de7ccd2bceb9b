// Load for the central service's tests and benchmark: valid plate and face events, hostile payloads
// of every kind the service must reject, and a publisher that keeps the broker's queue bounded.
import type { MqttClient } from 'mqtt';
import type { FaceEvent, PlateEvent } from '../../src/protocol/event.js';
import { eventTopic, statusTopic } from '../../src/protocol/topics.js';

export function plateEventFor(carId: string, seq: number, text: string, nowMs = Date.now(), clockOffsetMs: number | null = 0): PlateEvent {
  return {
    v: 1,
    kind: 'plate',
    carId,
    seq,
    cameraId: 'cam1-front',
    frameReceivedAtMs: nowMs - 300,
    analysedAtMs: nowMs - 120,
    committedAtMs: nowMs - 100,
    clockOffsetMs,
    stages: { queueMs: 5, inferenceMs: 80 },
    evidence: [],
    plate: { text, format: 'standard', color: 'blue', rows: 1, confidence: 0.9, box: [0, 0, 10, 5], corners: [[0, 0], [10, 0], [10, 5], [0, 5]] },
  };
}

export function faceEventFor(carId: string, seq: number, embedding: ArrayLike<number>, nowMs = Date.now()): FaceEvent {
  return {
    v: 1,
    kind: 'face',
    carId,
    seq,
    cameraId: 'cam8-rear',
    frameReceivedAtMs: nowMs - 300,
    analysedAtMs: nowMs - 120,
    committedAtMs: nowMs - 100,
    clockOffsetMs: 0,
    stages: { queueMs: 5, inferenceMs: 40 },
    evidence: [],
    face: { box: [0, 0, 100, 120], landmarks: [[30, 40], [70, 40], [50, 60], [35, 85], [65, 85]], score: 0.9, quality: 0.8, embedding: Array.from(embedding) },
  };
}

/** Returns a plate text that no hotlist in the tests contains: 沪B and five digits of the seq. */
export function cleanPlate(seq: number): string {
  return `沪B${String(seq % 100_000).padStart(5, '0')}`;
}

export interface OutgoingMessage {
  topic: string;
  payload: string | Buffer;
}

function nested(depth: number, open: string, close: string, inner: string): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/**
 * Builds `count` hostile messages for cars named `${prefix}-N`, cycling through the kinds below.
 * Every one must be rejected: none is a valid event or status message for its topic.
 */
export function hostileMessages(count: number, prefix: string): OutgoingMessage[] {
  const kinds: Array<(i: number, carId: string) => OutgoingMessage> = [
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), seq: String(i) }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), stages: { queueMs: 'fast', inferenceMs: -1 } }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), plate: { text: 'x'.repeat(200_000) } }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), padding: 'y'.repeat(300 * 1024) }) }),
    (_i, carId) => ({ topic: eventTopic(carId), payload: nested(50_000, '[', ']', '1') }),
    (_i, carId) => ({ topic: eventTopic(carId), payload: nested(20_000, '{"a":', '}', '1') }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), evidence: [JSON.parse(nested(2000, '[', ']', '0'))] }) }),
    (i, carId) => ({ topic: eventTopic(`${carId}-other`), payload: JSON.stringify(plateEventFor(carId, i + 1, cleanPlate(i))) }),
    (i, carId) => ({ topic: 'patrol/v1/cars//events', payload: JSON.stringify(plateEventFor(carId, i + 1, cleanPlate(i))) }),
    (_i, carId) => ({ topic: eventTopic(carId), payload: 'not json {' }),
    (_i, carId) => ({ topic: eventTopic(carId), payload: '' }),
    (i, carId) => ({ topic: eventTopic(carId), payload: Buffer.from(Array.from({ length: 64 }, (_, k) => (i * 31 + k * 7) % 256)) }),
    (_i, carId) => ({ topic: eventTopic(carId), payload: 'null' }),
    (_i, carId) => ({ topic: eventTopic(carId), payload: '[1,2,3]' }),
    (i, carId) => ({ topic: eventTopic(carId), payload: `{"__proto__":{"polluted":true},"v":1,"kind":"plate","carId":"${carId}","seq":${i + 1}}` }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), v: 2 }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), kind: 'weapon' }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), seq: -5 }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), carId: 'x'.repeat(65) }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...faceEventFor(carId, i + 1, new Array(128).fill(0.1)), face: { ...faceEventFor(carId, 1, []).face, embedding: new Array(128).fill('0.1') } }) }),
    (i, carId) => ({ topic: eventTopic(carId), payload: JSON.stringify({ ...plateEventFor(carId, i + 1, cleanPlate(i)), evidence: [{ kind: 'context', jpegBase64: 'A'.repeat(97 * 1024) }] }) }),
    (_i, carId) => ({ topic: statusTopic(carId), payload: JSON.stringify({ v: 1, kind: 'status', carId, sentAtMs: 'now', clockOffsetMs: null, cameras: [], outboxBacklog: 0 }) }),
    (_i, carId) => ({ topic: statusTopic(`${carId}-other`), payload: JSON.stringify({ v: 1, kind: 'status', carId, sentAtMs: 1, clockOffsetMs: null, cameras: [], outboxBacklog: 0 }) }),
    (_i, carId) => ({ topic: statusTopic(carId), payload: JSON.stringify({ v: 1, kind: 'status', carId, sentAtMs: 1, clockOffsetMs: null, cameras: Array.from({ length: 33 }, (_, k) => ({ cameraId: `c${k}`, state: 'up', analysedFps: 1 })), outboxBacklog: 0 }) }),
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!(i, `${prefix}-${i % 50}`));
}

/** Number of distinct hostile kinds that hostileMessages cycles through. */
export const HOSTILE_KIND_COUNT = 24;

/**
 * Publishes with QoS 1, keeping at most `window` messages ahead of `handled()`: Mosquitto drops QoS 1
 * messages beyond a slow subscriber's queue (max_queued_messages, 1000 by default).
 */
export async function publishPaced(client: MqttClient, messages: readonly OutgoingMessage[], handled: () => number, options: { window?: number; timeoutMs?: number } = {}): Promise<void> {
  const window = options.window ?? 500;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const base = handled();
  for (let start = 0; start < messages.length; start += window / 2) {
    while (start - (handled() - base) > window / 2) {
      if (Date.now() > deadline) throw new Error(`timed out: ${handled() - base} of ${start} published messages handled`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const batch = messages.slice(start, start + window / 2);
    await Promise.all(batch.map((message) => client.publishAsync(message.topic, message.payload, { qos: 1 })));
  }
}

export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
