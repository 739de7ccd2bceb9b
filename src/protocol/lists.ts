// Hotlist and watchlist updates the central service publishes to the cars: versioned snapshots and
// deltas, signed with ed25519. The agent verifies a message with verifyListMessage and applies it with
// applyListMessage; the central side signs with signListPayload.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const LIST_SCHEMA_VERSION = 1;
export const LIST_NAMES = ['hotlist', 'watchlist'] as const;
export type ListName = (typeof LIST_NAMES)[number];

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -');
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'should be base64');

export const HotlistItemSchema = z.strictObject({
  plate: z.string().min(2).max(16),
  reason: z.string().min(1).max(200),
  priority: z.number().int().min(1).max(5),
  expiresAtMs: z.number().finite().nullable(),
});

/** Watchlist items: a face list, a subject with float32 embeddings, or a negative of a subject. */
export const WatchlistItemSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('list'), listId: id, threshold: z.number().min(-1).max(1) }),
  z.strictObject({
    type: z.literal('subject'),
    subjectId: id,
    listId: id,
    label: z.string().min(1).max(200),
    dimension: z.number().int().positive().max(4096),
    /** Little-endian float32 embeddings, `dimension` values each, one after another. */
    embeddingsBase64: base64,
  }),
  z.strictObject({ type: z.literal('negative'), subjectId: id, hitId: z.string().min(1).max(64), embeddingBase64: base64 }),
]);

export type HotlistItem = z.infer<typeof HotlistItemSchema>;
export type WatchlistItem = z.infer<typeof WatchlistItemSchema>;
export type ListItem = HotlistItem | WatchlistItem;

const keyed = <T extends z.ZodType>(item: T) => z.strictObject({ key: z.string().min(1).max(200), item });

const listPayload = <L extends ListName, T extends z.ZodType>(list: L, item: T) =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      v: z.literal(LIST_SCHEMA_VERSION),
      list: z.literal(list),
      kind: z.literal('snapshot'),
      version: z.number().int().nonnegative(),
      /** Central clock, ms since the epoch. */
      issuedAtMs: z.number().finite(),
      items: z.array(keyed(item)),
    }),
    z.strictObject({
      v: z.literal(LIST_SCHEMA_VERSION),
      list: z.literal(list),
      kind: z.literal('delta'),
      version: z.number().int().positive(),
      /** The delta applies only to a list at exactly this version; otherwise wait for the snapshot. */
      baseVersion: z.number().int().nonnegative(),
      issuedAtMs: z.number().finite(),
      upserts: z.array(keyed(item)),
      removals: z.array(z.string().min(1).max(200)),
    }),
  ]);

export const ListPayloadSchema = z.union([listPayload('hotlist', HotlistItemSchema), listPayload('watchlist', WatchlistItemSchema)]);
export type ListPayload = z.infer<typeof ListPayloadSchema>;

/** Message on the list topics: the payload as signed text, the signing key's id and the signature. */
export const SignedListMessageSchema = z.strictObject({
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'should be 16 hex digits'),
  /** ListPayload as JSON text; the signature covers exactly these UTF-8 bytes. */
  payload: z.string(),
  /** ed25519 signature, base64. */
  signature: base64,
});
export type SignedListMessage = z.infer<typeof SignedListMessageSchema>;

export type ListVerifyResult =
  | { ok: true; payload: ListPayload; keyId: string }
  | { ok: false; code: 'LIST_NOT_JSON' | 'LIST_INVALID' | 'LIST_UNKNOWN_KEY' | 'LIST_BAD_SIGNATURE'; message: string };

/** Id of an ed25519 public key: the first 16 hex digits of the SHA-256 of its SPKI DER encoding. */
export function listKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Signs a payload with an ed25519 private key; returns the message to publish. */
export function signListPayload(payload: ListPayload, privateKey: KeyObject): SignedListMessage {
  const text = JSON.stringify(payload);
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
  return { keyId: listKeyId(createPublicKey(privateKey)), payload: text, signature };
}

/**
 * Checks a received list message: shape, a trusted key id, the ed25519 signature over the payload
 * text, and only then the payload's schema. Messages from unknown keys are rejected.
 */
export function verifyListMessage(bytes: Uint8Array, trustedKeys: ReadonlyMap<string, KeyObject>): ListVerifyResult {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return { ok: false, code: 'LIST_NOT_JSON', message: 'list message should be UTF-8 JSON, instead it could not be parsed' };
  }
  const envelope = SignedListMessageSchema.safeParse(json);
  if (!envelope.success) return { ok: false, code: 'LIST_INVALID', message: `list message envelope is invalid: ${describe(envelope.error)}` };

  const publicKey = trustedKeys.get(envelope.data.keyId);
  if (publicKey === undefined) return { ok: false, code: 'LIST_UNKNOWN_KEY', message: `list message is signed by key ${envelope.data.keyId}, which is not trusted; add its public key to the trusted keys` };
  const valid = verify(null, Buffer.from(envelope.data.payload, 'utf8'), publicKey, Buffer.from(envelope.data.signature, 'base64'));
  if (!valid) return { ok: false, code: 'LIST_BAD_SIGNATURE', message: `list message signature does not verify with key ${envelope.data.keyId}` };

  let payloadJson: unknown;
  try {
    payloadJson = JSON.parse(envelope.data.payload);
  } catch {
    return { ok: false, code: 'LIST_INVALID', message: 'signed list payload is not JSON' };
  }
  const payload = ListPayloadSchema.safeParse(payloadJson);
  if (!payload.success) return { ok: false, code: 'LIST_INVALID', message: `signed list payload is invalid: ${describe(payload.error)}` };
  return { ok: true, payload: payload.data, keyId: envelope.data.keyId };
}

/** A car's copy of one list. */
export interface ListState<T extends ListItem = ListItem> {
  version: number;
  items: ReadonlyMap<string, T>;
}

export type ApplyResult<T extends ListItem> =
  | { applied: true; state: ListState<T> }
  | { applied: false; reason: 'stale' | 'base-mismatch'; state: ListState<T> };

/**
 * Applies a verified payload to a list copy. A snapshot replaces the copy unless it is older. A delta
 * applies only on top of its base version, so a car that missed one waits for the next snapshot.
 */
export function applyListMessage<T extends ListItem>(state: ListState<T>, payload: ListPayload): ApplyResult<T> {
  if (payload.kind === 'snapshot') {
    if (payload.version < state.version) return { applied: false, reason: 'stale', state };
    return { applied: true, state: { version: payload.version, items: new Map(payload.items.map(({ key, item }) => [key, item as T])) } };
  }
  if (payload.version <= state.version) return { applied: false, reason: 'stale', state };
  if (payload.baseVersion !== state.version) return { applied: false, reason: 'base-mismatch', state };
  const items = new Map(state.items);
  for (const key of payload.removals) items.delete(key);
  for (const { key, item } of payload.upserts) items.set(key, item as T);
  return { applied: true, state: { version: payload.version, items } };
}

/** Encodes float32 embeddings as base64 for a watchlist item. */
export function embeddingsToBase64(embeddings: readonly Float32Array[]): string {
  const dimension = embeddings[0]?.length ?? 0;
  const packed = new Float32Array(embeddings.length * dimension);
  embeddings.forEach((embedding, index) => packed.set(embedding, index * dimension));
  return Buffer.from(packed.buffer).toString('base64');
}

/** Decodes base64 float32 embeddings of a watchlist item. */
export function embeddingsFromBase64(text: string, dimension: number): Float32Array[] {
  const bytes = Buffer.from(text, 'base64');
  const floats = new Float32Array(new Uint8Array(bytes).buffer);
  const embeddings: Float32Array[] = [];
  for (let offset = 0; dimension > 0 && offset + dimension <= floats.length; offset += dimension) embeddings.push(floats.slice(offset, offset + dimension));
  return embeddings;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
