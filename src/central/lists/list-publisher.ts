// Publishes each list to the cars as a signed snapshot (retained, so a car that connects later gets
// it) and, when this instance published the previous version, first a signed delta from that one.
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../common/log.js';
import { listKeyId, signListPayload, type ListItem, type ListName, type ListPayload } from '../../protocol/lists.js';
import { listDeltaTopic, listSnapshotTopic } from '../../protocol/topics.js';

export class ListPublishError extends Error {
  override readonly name = 'ListPublishError';
  constructor(
    readonly code: 'LIST_KEY_INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Reads an ed25519 private key in PEM (PKCS #8), as `openssl genpkey -algorithm ed25519` writes it. */
export function loadSigningKey(filePath: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(filePath));
  } catch (error) {
    throw new ListPublishError('LIST_KEY_INVALID', `could not read the list signing key ${filePath}: ${(error as Error).message}; create one with: openssl genpkey -algorithm ed25519 -out ${filePath}`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ListPublishError('LIST_KEY_INVALID', `list signing key ${filePath} should be an ed25519 key, instead got ${key.asymmetricKeyType}`);
  }
  return key;
}

interface Published {
  version: number;
  /** Item JSON by key, to find what changed for the next delta. */
  itemJson: Map<string, string>;
}

export class ListPublisher {
  readonly keyId: string;
  private readonly published = new Map<ListName, Published>();

  constructor(
    private readonly client: MqttClient,
    private readonly privateKey: KeyObject,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.keyId = listKeyId(createPublicKey(privateKey));
  }

  /** Publishes the list at this version unless this instance already did; resolves once the broker has both messages. */
  async publish(list: ListName, version: number, items: ReadonlyMap<string, ListItem>): Promise<void> {
    const previous = this.published.get(list);
    if (previous !== undefined && previous.version >= version) return;

    const itemJson = new Map([...items].map(([key, item]) => [key, JSON.stringify(item)]));
    const issuedAtMs = this.clock();

    // The delta goes first: connected cars apply it, and then skip the snapshot of the same version.
    let deltaSize: number | null = null;
    if (previous !== undefined) {
      const upserts = [...items].filter(([key]) => previous.itemJson.get(key) !== itemJson.get(key)).map(([key, item]) => ({ key, item }));
      const removals = [...previous.itemJson.keys()].filter((key) => !items.has(key));
      const delta = { v: 1, list, kind: 'delta', version, baseVersion: previous.version, issuedAtMs, upserts, removals } as ListPayload;
      await this.client.publishAsync(listDeltaTopic(list), JSON.stringify(signListPayload(delta, this.privateKey)), { qos: 1, retain: true });
      deltaSize = upserts.length + removals.length;
    }

    const snapshot = { v: 1, list, kind: 'snapshot', version, issuedAtMs, items: [...items].map(([key, item]) => ({ key, item })) } as ListPayload;
    await this.client.publishAsync(listSnapshotTopic(list), JSON.stringify(signListPayload(snapshot, this.privateKey)), { qos: 1, retain: true });
    this.published.set(list, { version, itemJson });
    this.logger.info({ list, version, items: items.size, deltaItems: deltaSize, keyId: this.keyId }, 'list published');
  }
}
