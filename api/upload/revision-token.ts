/**
 * Revision tokens: what a phone must present to change the report type of keys it uploaded
 * earlier. Opaque to the phone: AES-256-GCM under a server key (versioned, for rotation) over the
 * keys' data and intervals, always padded to the plaintext of a full upload, so the token's size
 * says nothing of how many keys it names.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KEY_LENGTH, MAX_KEYS_PER_UPLOAD } from '../../proto/tek';
import type { VersionedKeys } from '../config';
import { pooledRandomBytes } from '../../platform/random';

/** A key a token allows to revise, with the intervals it was uploaded with. */
export interface RevisableKey {
  keyData: Uint8Array;
  rollingStartIntervalNumber: number;
  rollingPeriod: number;
}

const FORMAT = 1;
const ENTRY_BYTES = KEY_LENGTH + 4 + 1;
const PLAINTEXT_BYTES = 2 + MAX_KEYS_PER_UPLOAD * ENTRY_BYTES;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const aadOfVersion = new Map<string, Buffer>();

function aad(version: string): Buffer {
  let bytes = aadOfVersion.get(version);
  if (!bytes) {
    bytes = Buffer.from(`keyfront revision token v${FORMAT}\0${version}`);
    // Only configured versions are sealed or opened (a token's version is looked up first): the map stays small.
    aadOfVersion.set(version, bytes);
  }
  return bytes;
}

/** The plaintext of `seal`, reused: it is encrypted before the function returns, then wiped. */
const scratch = Buffer.alloc(PLAINTEXT_BYTES);

/** The token of `keys` (at most 30) under the current key: `{version}.{base64url(nonce, ciphertext, tag)}`. */
export function sealRevisionToken(keys: VersionedKeys, revisable: readonly RevisableKey[]): string {
  if (revisable.length > MAX_KEYS_PER_UPLOAD) throw new RangeError(`a revision token names at most ${MAX_KEYS_PER_UPLOAD} keys`);
  const key = keys.keys.get(keys.current);
  if (!key) throw new Error('no current revision token key');
  const plaintext = scratch;
  plaintext[0] = FORMAT;
  plaintext[1] = revisable.length;
  for (let i = 0; i < revisable.length; i++) {
    const entry = revisable[i];
    const at = 2 + i * ENTRY_BYTES;
    plaintext.set(entry.keyData, at);
    plaintext.writeUInt32BE(entry.rollingStartIntervalNumber, at + KEY_LENGTH);
    plaintext[at + KEY_LENGTH + 4] = entry.rollingPeriod;
  }
  // One buffer for nonce, ciphertext and tag: the nonce is written into it, the cipher writes after it.
  const sealed = Buffer.allocUnsafe(NONCE_BYTES + PLAINTEXT_BYTES + TAG_BYTES);
  const nonce = pooledRandomBytes(NONCE_BYTES);
  nonce.copy(sealed, 0);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(keys.current));
  const written = cipher.update(plaintext).copy(sealed, NONCE_BYTES) + cipher.final().copy(sealed, NONCE_BYTES + PLAINTEXT_BYTES);
  plaintext.fill(0, 2, 2 + revisable.length * ENTRY_BYTES);
  if (written !== PLAINTEXT_BYTES) throw new Error('AES-GCM wrote an unexpected length');
  cipher.getAuthTag().copy(sealed, NONCE_BYTES + PLAINTEXT_BYTES);
  return `${keys.current}.${sealed.toString('base64url')}`;
}

/** The keys a token names, or `undefined` when it is not a token of ours (wrong key, tampered, truncated). */
export function openRevisionToken(keys: VersionedKeys, token: string): RevisableKey[] | undefined {
  const dot = token.indexOf('.');
  const version = token.slice(0, dot);
  const key = dot > 0 ? keys.keys.get(version) : undefined;
  if (!key) return undefined;
  const sealed = Buffer.from(token.slice(dot + 1), 'base64url');
  if (sealed.length !== NONCE_BYTES + PLAINTEXT_BYTES + TAG_BYTES) return undefined;
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(version));
    decipher.setAuthTag(sealed.subarray(NONCE_BYTES + PLAINTEXT_BYTES));
    plaintext = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, NONCE_BYTES + PLAINTEXT_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
  const count = plaintext[1];
  if (plaintext[0] !== FORMAT || count > MAX_KEYS_PER_UPLOAD) return undefined;
  return Array.from({ length: count }, (_, i) => {
    const at = 2 + i * ENTRY_BYTES;
    return {
      keyData: Uint8Array.from(plaintext.subarray(at, at + KEY_LENGTH)),
      rollingStartIntervalNumber: plaintext.readUInt32BE(at + KEY_LENGTH),
      rollingPeriod: plaintext[at + KEY_LENGTH + 4],
    };
  });
}

/** A token-shaped random string of the real size: the answer to chaff. */
export function chaffRevisionToken(keys: VersionedKeys): string {
  return `${keys.current}.${pooledRandomBytes(NONCE_BYTES + PLAINTEXT_BYTES + TAG_BYTES).toString('base64url')}`;
}
