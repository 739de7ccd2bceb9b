// Listens for the central service's receipts on the car's receipt topic and hands each valid one to
// the publisher. A receipt that fails validation is counted and logged without its content.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/common/log.js';
import { LogThrottle } from '../../src/common/log-throttle.js';
import { parseReceipt, receiptTopic, type Receipt } from '../../src/protocol/receipts.js';

export interface ReceiptListenerOptions {
  client: MqttClient;
  carId: string;
  logger: Logger;
  onReceipt: (receipt: Receipt) => void;
  onInvalid?: () => void;
}

/** Minimum time between two log lines about invalid receipts; the metric counts every one. */
const INVALID_LOG_INTERVAL_MS = 60_000;

/** Subscribes to the car's receipts; returns a function that stops listening. */
export function listenForReceipts(options: ReceiptListenerOptions): () => void {
  const { client, carId, logger } = options;
  const topic = receiptTopic(carId);
  const invalidLog = new LogThrottle(INVALID_LOG_INTERVAL_MS);
  const onMessage = (messageTopic: string, payload: Buffer): void => {
    if (messageTopic !== topic) return;
    const result = parseReceipt(payload, carId);
    if (!result.ok) {
      options.onInvalid?.();
      const invalidSinceLastLine = invalidLog.take();
      if (invalidSinceLastLine !== null) logger.warn({ topic, reason: result.message, invalidSinceLastLine }, 'invalid receipt ignored');
      return;
    }
    options.onReceipt(result.receipt);
  };
  client.on('message', onMessage);
  // mqtt.js resubscribes after a reconnect. Receipts sent while the car was away are not kept (clean
  // session); those events are sent again after the receipt timeout and receipted then.
  const subscribe = (): void => {
    client.subscribe(topic, { qos: 1 }, (error, granted) => {
      if (error) logger.error({ topic, err: error.message }, 'receipt subscription failed; events will be sent again after each receipt timeout');
      else if (granted?.some((grant) => grant.qos > 2)) logger.error({ topic }, 'receipt subscription rejected by the broker; check its ACL (deploy/mosquitto/patrol.acl)');
    });
  };
  // With the broker unreachable at start, mqtt.js reports a subscription made before the first
  // connection as failed, although it subscribes once connected. Waiting for that connection avoids
  // the misleading error line.
  if (client.connected) subscribe();
  else client.once('connect', subscribe);
  return () => {
    client.off('message', onMessage);
    client.off('connect', subscribe);
  };
}
