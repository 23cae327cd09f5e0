/**
 * Register secrets: stateless access keys. The secret of a user UUID is an HMAC of the UUID under
 * the current register key, prefixed with that key's version, so checking it needs no database and
 * keys rotate by adding a version (old secrets verify until their version is removed).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { CANONICAL_GUID_PATTERN } from '../../platform/ids';
import type { VersionedKeys } from '../config';

const CONTEXT = 'keyfront register secret v1\0';

function mac(key: Buffer, userUuid: string): Buffer {
  return createHmac('sha256', key).update(CONTEXT).update(userUuid).digest();
}

/** A new user UUID and its secret (`{version}.{base64url mac}`); nothing is stored. */
export function issueRegistration(keys: VersionedKeys): { userUuid: string; secret: string } {
  const userUuid = randomUUID();
  const key = keys.keys.get(keys.current);
  if (!key) throw new Error('no current register key');
  return { userUuid, secret: `${keys.current}.${mac(key, userUuid).toString('base64url')}` };
}

/** Whether `secret` was issued for `userUuid` under a configured key version; constant time in the MAC. */
export function verifyRegistration(keys: VersionedKeys, userUuid: string, secret: string): boolean {
  if (!CANONICAL_GUID_PATTERN.test(userUuid)) return false;
  const dot = secret.indexOf('.');
  const key = dot > 0 ? keys.keys.get(secret.slice(0, dot)) : undefined;
  if (!key) return false;
  // Compared as text: only the canonical encoding of the MAC is accepted.
  const presented = Buffer.from(secret.slice(dot + 1));
  const expected = Buffer.from(mac(key, userUuid).toString('base64url'));
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
