import { randomBytes } from 'node:crypto';
import type { Tek } from '../proto/tek';
import { FileBatcher } from './batch';

const key = (): Tek => ({ keyData: randomBytes(16), rollingStartIntervalNumber: 2_900_000, rollingPeriod: 144, transmissionRiskLevel: 1 });

describe('FileBatcher', () => {
  it('is full at the maximum, counting keys and revised keys together', () => {
    const batcher = new FileBatcher(3);
    batcher.addKey(key());
    batcher.addRevisedKey(key());
    expect(batcher.full).toBe(false);
    batcher.addKey(key());
    expect({ full: batcher.full, size: batcher.size, primary: batcher.primaryKeys, revised: batcher.revisedKeys }).toEqual({ full: true, size: 3, primary: 2, revised: 1 });
    expect(() => batcher.addKey(key())).toThrow(/the file is full \(3 keys\)/);
  });

  it('hands out the waiting keys and starts an empty file', () => {
    const batcher = new FileBatcher(10);
    const teks = [key(), key()];
    teks.forEach((tek) => batcher.addKey(tek));
    const taken = batcher.take();
    expect([...taken.keys].map((t) => Buffer.from(t.keyData).toString('hex'))).toEqual(teks.map((t) => Buffer.from(t.keyData).toString('hex')));
    expect(taken.revisedKeys.length).toBe(0);
    expect(batcher.size).toBe(0);
  });

  it('rejects a maximum below one key', () => {
    expect(() => new FileBatcher(0)).toThrow(RangeError);
  });
});
