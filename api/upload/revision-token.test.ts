import { randomBytes } from 'node:crypto';
import type { VersionedKeys } from '../config';
import { chaffRevisionToken, openRevisionToken, sealRevisionToken, type RevisableKey } from './revision-token';

const keys: VersionedKeys = { current: 'k1', keys: new Map([['k1', randomBytes(32)]]) };

function revisable(count: number): RevisableKey[] {
  return Array.from({ length: count }, (_, i) => ({ keyData: randomBytes(16), rollingStartIntervalNumber: 2_900_000 + i * 144, rollingPeriod: 144 - i }));
}

describe('revision tokens', () => {
  it('name exactly the keys and intervals they were sealed with', () => {
    const sealed = revisable(14);
    const opened = openRevisionToken(keys, sealRevisionToken(keys, sealed));
    expect(opened?.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) }))).toEqual(sealed.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) })));
  });

  it('have one size whatever the number of keys, and chaff tokens have it too', () => {
    const sizes = new Set([1, 2, 14, 30].map((n) => sealRevisionToken(keys, revisable(n)).length));
    sizes.add(chaffRevisionToken(keys).length);
    expect(sizes.size).toBe(1);
  });

  it('differ each time for the same keys', () => {
    const same = revisable(3);
    expect(sealRevisionToken(keys, same)).not.toBe(sealRevisionToken(keys, same));
  });

  it('still open under an older key version while it is listed', () => {
    const token = sealRevisionToken(keys, revisable(2));
    const rotated: VersionedKeys = { current: 'k2', keys: new Map([['k2', randomBytes(32)], ['k1', keys.keys.get('k1')!]]) };
    expect(openRevisionToken(rotated, token)).toHaveLength(2);
    expect(openRevisionToken({ current: 'k2', keys: new Map([['k2', randomBytes(32)]]) }, token)).toBeUndefined();
  });

  it.each([
    ['a flipped byte', (t: string) => `${t.slice(0, 20)}${t[20] === 'A' ? 'B' : 'A'}${t.slice(21)}`],
    ['a truncation', (t: string) => t.slice(0, -4)],
    ['another version label', (t: string) => t.replace('k1.', 'k0.')],
    ['no label', (t: string) => t.slice(3)],
    ['chaff', () => chaffRevisionToken(keys)],
    ['garbage', () => 'garbage'],
    ['empty', () => ''],
  ])('refuses a token with %s', (_name, change) => {
    expect(openRevisionToken(keys, change(sealRevisionToken(keys, revisable(2))))).toBeUndefined();
  });

  it('refuses to name more keys than an upload holds', () => {
    expect(() => sealRevisionToken(keys, revisable(31))).toThrow(RangeError);
  });
});
