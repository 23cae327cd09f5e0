import { pooledRandomBytes } from './random';

describe('pooledRandomBytes', () => {
  it('hands out fresh bytes of the size asked, never the same bytes twice, across refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const bytes = pooledRandomBytes(12);
      expect(bytes).toHaveLength(12);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('gives copies the caller owns, and serves sizes above the pool directly', () => {
    const a = pooledRandomBytes(16);
    const before = a.toString('hex');
    // A request of the pool's whole size refills it: the bytes handed out before must not change.
    pooledRandomBytes(4096);
    expect(a.toString('hex')).toBe(before);
    expect(pooledRandomBytes(10000)).toHaveLength(10000);
  });
});
