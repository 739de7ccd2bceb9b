// An in-process MQTT broker (Aedes) on 127.0.0.1 for the demo and for a single-box setup without
// Mosquitto. Aedes 1.x speaks MQTT 3.1.1 only, so clients of this broker use protocol version 4.
import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../common/log.js';

export interface EmbeddedBroker {
  url: string;
  /** MQTT protocol version clients must use with this broker. */
  protocolVersion: 4;
  close(): Promise<void>;
}

/** Starts the broker on 127.0.0.1; port 0 picks a free port. */
export async function startEmbeddedBroker(logger: Logger, port = 0): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  broker.on('clientError', (client, error) => logger.warn({ clientId: client.id, err: error.message }, 'embedded broker: client error'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  logger.info({ port: address.port }, 'embedded MQTT broker listening on 127.0.0.1');

  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    protocolVersion: 4,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
