// MQTT topic layout shared by the agent and the central service.

export const TOPIC_ROOT = 'patrol/v1';

/** Topic a car publishes its events on. */
export function eventTopic(carId: string): string {
  return `${TOPIC_ROOT}/cars/${carId}/events`;
}

/** Subscription filter for every car's events. */
export const ALL_EVENTS_FILTER = `${TOPIC_ROOT}/cars/+/events`;

/** Topic a car publishes its optional status messages on. */
export function statusTopic(carId: string): string {
  return `${TOPIC_ROOT}/cars/${carId}/status`;
}

/** Subscription filter for every car's status messages. */
export const ALL_STATUS_FILTER = `${TOPIC_ROOT}/cars/+/status`;

/**
 * MQTT 5 shared subscription (MQTT 5.0 section 4.8.2): the broker delivers each message to one
 * subscriber of the group, so several central instances split the fleet's traffic.
 */
export function sharedFilter(group: string, filter: string): string {
  return `$share/${group}/${filter}`;
}

/** Topic the central service publishes hits on. */
export const HITS_TOPIC = `${TOPIC_ROOT}/hits`;

/** Retained topic holding the latest signed snapshot of a list. */
export function listSnapshotTopic(list: string): string {
  return `${TOPIC_ROOT}/lists/${list}/snapshot`;
}

/** Topic of the signed deltas of a list; the latest one is retained too. */
export function listDeltaTopic(list: string): string {
  return `${TOPIC_ROOT}/lists/${list}/delta`;
}

/** Extracts the car id from an event topic, or returns null when the topic is not an event topic. */
export function carIdFromTopic(topic: string): string | null {
  const match = /^patrol\/v1\/cars\/([^/]+)\/events$/.exec(topic);
  return match?.[1] ?? null;
}

/** Extracts the car id from a status topic, or returns null when the topic is not a status topic. */
export function carIdFromStatusTopic(topic: string): string | null {
  const match = /^patrol\/v1\/cars\/([^/]+)\/status$/.exec(topic);
  return match?.[1] ?? null;
}
