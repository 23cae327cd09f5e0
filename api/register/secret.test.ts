import type { VersionedKeys } from '../config';
import { issueRegistration, verifyRegistration } from './secret';

const v1: VersionedKeys = { current: 'v1', keys: new Map([['v1', Buffer.alloc(32, 1)]]) };
const rotated: VersionedKeys = { current: 'v2', keys: new Map([['v2', Buffer.alloc(32, 2)], ['v1', Buffer.alloc(32, 1)]]) };
const v2only: VersionedKeys = { current: 'v2', keys: new Map([['v2', Buffer.alloc(32, 2)]]) };

describe('register secrets', () => {
  it('issues a random UUID and a secret that verifies for it', () => {
    const { userUuid, secret } = issueRegistration(v1);
    expect(userUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(secret).toMatch(/^v1\.[A-Za-z0-9_-]{43}$/);
    expect(verifyRegistration(v1, userUuid, secret)).toBe(true);
    expect(issueRegistration(v1).userUuid).not.toBe(userUuid);
  });

  it('keeps old secrets valid while their key version is listed, and drops them after', () => {
    const { userUuid, secret } = issueRegistration(v1);
    expect(verifyRegistration(rotated, userUuid, secret)).toBe(true);
    expect(issueRegistration(rotated).secret.startsWith('v2.')).toBe(true);
    expect(verifyRegistration(v2only, userUuid, secret)).toBe(false);
  });

  it.each([
    ['another UUID', (s: string) => s, () => '00000000-0000-4000-8000-000000000000'],
    ['a changed MAC', (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`, (u: string) => u],
    ['an unknown version', (s: string) => s.replace('v1.', 'v9.'), (u: string) => u],
    ['no version', (s: string) => s.replace('v1.', ''), (u: string) => u],
    ['a non-canonical encoding', (s: string) => `${s}=`, (u: string) => u],
    ['an empty secret', () => '', (u: string) => u],
    ['a UUID that is not one', (s: string) => s, () => 'not-a-uuid'],
  ])('refuses %s', (_name, secretOf, uuidOf) => {
    const { userUuid, secret } = issueRegistration(v1);
    expect(verifyRegistration(v1, uuidOf(userUuid), secretOf(secret))).toBe(false);
  });
});
