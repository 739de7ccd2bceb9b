// Password hashing with node:crypto scrypt. A stored hash carries its own parameters, so the cost
// can be raised later without invalidating existing passwords.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Cost parameters: N = 2^17, r = 8, p = 1, the minimum the OWASP Password Storage Cheat Sheet gives for scrypt. */
const DEFAULT_LOG2_N = 17;
const DEFAULT_BLOCK_SIZE = 8;
const DEFAULT_PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

export const MIN_PASSWORD_LENGTH = 12;
/** Upper bound so a huge password cannot make hashing expensive. */
export const MAX_PASSWORD_LENGTH = 256;

export class PasswordError extends Error {
  override readonly name = 'PasswordError';
  constructor(
    readonly code: 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_HASH_MALFORMED',
    message: string,
  ) {
    super(message);
  }
}

interface ScryptParams {
  log2N: number;
  blockSize: number;
  parallelism: number;
}

/** Throws PasswordError when the password is outside the allowed length. */
export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new PasswordError('PASSWORD_TOO_SHORT', `password should have at least ${MIN_PASSWORD_LENGTH} characters, instead got ${length}`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new PasswordError('PASSWORD_TOO_LONG', `password should have at most ${MAX_PASSWORD_LENGTH} characters, instead got ${length}`);
  }
}

/** Hashes a password that passes the policy into "scrypt$<log2 N>$<r>$<p>$<salt base64>$<key base64>". */
export async function hashPassword(password: string): Promise<string> {
  checkPasswordPolicy(password);
  const params: ScryptParams = { log2N: DEFAULT_LOG2_N, blockSize: DEFAULT_BLOCK_SIZE, parallelism: DEFAULT_PARALLELISM };
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, params, KEY_BYTES);
  return ['scrypt', params.log2N, params.blockSize, params.parallelism, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Compares a password with a stored hash in constant time; throws PasswordError when the hash is malformed. */
export async function verifyPassword(password: string, storedHash: string): Promise<boolean> {
  const { params, salt, key } = parseHash(storedHash);
  if ([...password].length > MAX_PASSWORD_LENGTH) return false;
  const candidate = await deriveKey(password, salt, params, key.length);
  return timingSafeEqual(candidate, key);
}

function parseHash(storedHash: string): { params: ScryptParams; salt: Buffer; key: Buffer } {
  const parts = storedHash.split('$');
  const [scheme, log2N, blockSize, parallelism, salt, key] = parts;
  const numbers = [log2N, blockSize, parallelism].map((text) => (text !== undefined && /^\d{1,2}$/.test(text) ? Number(text) : NaN));
  const valid =
    parts.length === 6 && scheme === 'scrypt' && numbers.every((value) => value >= 1) && numbers[0]! <= 20 && salt !== undefined && salt.length > 0 && key !== undefined && key.length > 0;
  if (!valid) {
    throw new PasswordError('PASSWORD_HASH_MALFORMED', 'stored password hash should look like scrypt$<log2 N>$<r>$<p>$<salt>$<key>; reset the user\'s password');
  }
  return {
    params: { log2N: numbers[0]!, blockSize: numbers[1]!, parallelism: numbers[2]! },
    salt: Buffer.from(salt!, 'base64'),
    key: Buffer.from(key!, 'base64'),
  };
}

function deriveKey(password: string, salt: Buffer, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  const N = 2 ** params.log2N;
  const options: ScryptOptions = {
    N,
    r: params.blockSize,
    p: params.parallelism,
    // scrypt needs about 128 * N * r bytes; Node's default limit of 32 MiB is too small for N = 2^17.
    maxmem: 128 * N * params.blockSize * params.parallelism + 16 * 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyBytes, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}
