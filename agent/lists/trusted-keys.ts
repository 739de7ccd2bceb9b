// Loads the ed25519 public keys whose signatures the car accepts on list messages, keyed by the
// key id that signed messages carry.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { listKeyId } from '../../src/protocol/lists.js';
import { ListError } from './list-errors.js';

/** Reads PEM public keys (as `openssl pkey -pubout` writes them); throws ListError for a bad file. */
export function loadTrustedKeys(files: readonly string[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const file of files) {
    let key: KeyObject;
    try {
      key = createPublicKey(readFileSync(file));
    } catch (error) {
      throw new ListError('LIST_KEY_INVALID', `cannot read the list public key ${file} (lists.trustedKeyFiles): ${(error as Error).message}`, { cause: error });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new ListError('LIST_KEY_INVALID', `list public key ${file} should be an ed25519 key, instead got ${key.asymmetricKeyType}`);
    }
    keys.set(listKeyId(key), key);
  }
  return keys;
}
