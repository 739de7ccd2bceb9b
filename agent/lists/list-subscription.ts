// Feeds the car's list copies from the broker: subscribes to the retained snapshot and delta topics
// of both lists, and logs and counts every message the lists reject.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/common/log.js';
import type { CarLists, ListOutcome } from './car-lists.js';

export interface ListSubscriptionDeps {
  client: MqttClient;
  lists: CarLists;
  logger: Logger;
  onOutcome?: (outcome: ListOutcome) => void;
}

/** Subscribes and starts applying; returns the function that stops listening. */
export function subscribeToLists(deps: ListSubscriptionDeps): () => void {
  const topics = new Set(deps.lists.topics());
  const onMessage = (topic: string, payload: Buffer): void => {
    if (!topics.has(topic)) return;
    const outcome = deps.lists.receive(topic, payload);
    logOutcome(outcome, deps.logger);
    deps.onOutcome?.(outcome);
  };
  deps.client.on('message', onMessage);
  // QoS 1 and mqtt.js's resubscribe after each reconnect bring the retained latest versions again.
  deps.client.subscribe([...topics], { qos: 1 }, (error) => {
    if (error) deps.logger.error({ err: error.message }, 'list subscription failed; the car keeps matching against its stored lists');
  });
  return () => deps.client.off('message', onMessage);
}

function logOutcome(outcome: ListOutcome, logger: Logger): void {
  switch (outcome.status) {
    case 'applied':
      logger.info({ list: outcome.list, version: outcome.version }, 'list updated');
      return;
    case 'unchanged':
      logger.debug({ list: outcome.list, version: outcome.version }, 'list message repeats the current version');
      return;
    case 'rejected': {
      const { code, message } = outcome.error;
      // A delta the car cannot apply yet is expected after a gap; the next snapshot fixes it.
      if (code === 'LIST_BASE_MISMATCH' || code === 'LIST_STALE') logger.warn({ list: outcome.list, code, err: message }, 'list message rejected');
      else logger.error({ list: outcome.list, code, err: message }, 'list message rejected; check the signing key and the central service');
    }
  }
}
