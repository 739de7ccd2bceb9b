// Replies to the cars' clock requests with the central receive and send times, so each car can
// measure its offset to the central clock. It shares the service's MQTT client: clock topics are taken out
// of the message stream here, and every other message goes on to the handler installed before.
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../common/log.js';
import {
  ALL_CLOCK_REQUESTS_FILTER,
  ClockRequestSchema,
  carIdFromClockRequestTopic,
  clockReplyTopic,
  parseClockMessage,
  type ClockReply,
} from '../protocol/clock.js';
import { sharedFilter } from '../protocol/topics.js';

export interface ClockResponderOptions {
  logger: Logger;
  /** Central clock in ms since the epoch. */
  clock?: () => number;
  /** Shared subscription group, so one instance replies to each request; null subscribes directly. */
  shareGroup?: string | null;
}

/** Invalid requests are counted and logged at most once per this interval. */
const INVALID_LOG_INTERVAL_MS = 60_000;

/**
 * Starts replying on `client`, which should already carry the service's message handler. Resolves
 * once subscribed, with the function that stops the replies.
 */
export async function startClockResponder(client: MqttClient, options: ClockResponderOptions): Promise<() => Promise<void>> {
  const clock = options.clock ?? Date.now;
  const filter = options.shareGroup ? sharedFilter(options.shareGroup, ALL_CLOCK_REQUESTS_FILTER) : ALL_CLOCK_REQUESTS_FILTER;
  const previous = client.handleMessage;
  let invalid = 0;
  let invalidLoggedAtMs = -Infinity;

  client.handleMessage = (packet: IPublishPacket, callback) => {
    const carId = carIdFromClockRequestTopic(packet.topic);
    if (carId === null) return previous.call(client, packet, callback);
    const receivedAtMs = clock();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const request = parseClockMessage(ClockRequestSchema, payload);
    if (request === null) {
      invalid++;
      if (receivedAtMs - invalidLoggedAtMs >= INVALID_LOG_INTERVAL_MS) {
        invalidLoggedAtMs = receivedAtMs;
        options.logger.warn({ carId, invalidSoFar: invalid }, 'invalid clock request ignored');
      }
      callback();
      return;
    }
    const reply: ClockReply = { v: 1, id: request.id, t1: request.t1, t2: receivedAtMs, t3: clock() };
    // QoS 0, because a late reply is worthless and the car sends a new request anyway.
    client.publish(clockReplyTopic(carId), JSON.stringify(reply), { qos: 0 });
    callback();
  };

  await client.subscribeAsync(filter, { qos: 0 });
  options.logger.info({ filter }, 'clock responder started');
  return async () => {
    client.handleMessage = previous;
    if (client.connected) await client.unsubscribeAsync(filter).catch(() => undefined);
  };
}
