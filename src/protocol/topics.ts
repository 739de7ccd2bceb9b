// MQTT topic layout shared by the agent and the central service.

export const TOPIC_ROOT = 'patrol/v1';

/** Topic a car publishes its events on. */
export function eventTopic(carId: string): string {
  return `${TOPIC_ROOT}/cars/${carId}/events`;
}

/** Subscription filter for every car's events. */
export const ALL_EVENTS_FILTER = `${TOPIC_ROOT}/cars/+/events`;

/** Topic the central service publishes hits on. */
export const HITS_TOPIC = `${TOPIC_ROOT}/hits`;

/** Extracts the car id from an event topic, or returns null when the topic is not an event topic. */
export function carIdFromTopic(topic: string): string | null {
  const match = /^patrol\/v1\/cars\/([^/]+)\/events$/.exec(topic);
  return match?.[1] ?? null;
}
