import * as fc from 'fast-check';
import { compareForExport, exportOrder } from './key-order';
import type { Tek } from './tek';
import { TekList } from './tek-list';

/** Keys from a small space of metadata and key prefixes, so that groups and prefix ties are common. */
const crowdedTek: fc.Arbitrary<Tek> = fc.record({
  keyData: fc.tuple(fc.constantFrom(0x00, 0x7f, 0x80, 0xff), fc.uint8Array({ minLength: 15, maxLength: 15 })).map(([first, rest]) => {
    const key = new Uint8Array(16);
    key[0] = first;
    // Half of the keys share their first 6 bytes: ties in the sort words, settled bytewise.
    key.set(rest[0] % 2 === 0 ? new Uint8Array(15) : rest, 1);
    key[15] = rest[14];
    return key;
  }),
  rollingStartIntervalNumber: fc.constantFrom(2_900_000, 2_900_144, 2_900_288),
  rollingPeriod: fc.constantFrom(144, 72),
  transmissionRiskLevel: fc.integer({ min: 0, max: 2 }),
  reportType: fc.constantFrom(undefined, 1, 5),
  daysSinceOnsetOfSymptoms: fc.constantFrom(undefined, -3, 0, 3),
});

function sortedByComparator(list: TekList): number[] {
  return [...Array(list.length).keys()].sort((a, b) => compareForExport(list, a, b));
}

function keyHex(list: TekList, order: ArrayLike<number>): string[] {
  return Array.from(order, (i) => Buffer.from(list.keyDataAt(i)).toString('hex') + list.start[i] + list.risk[i] + list.reportType[i] + list.onset[i] + list.period[i]);
}

describe('the publication order of keys', () => {
  it('is the comparator order: metadata groups, then key bytes', () => {
    fc.assert(
      fc.property(fc.array(crowdedTek, { maxLength: 300 }), (teks) => {
        const list = TekList.from(teks);
        expect(keyHex(list, exportOrder(list))).toEqual(keyHex(list, sortedByComparator(list)));
      }),
      { numRuns: 150 },
    );
  });

  it('sorts large groups (the packed-word path) like the comparator, ties included', () => {
    fc.assert(
      fc.property(fc.array(crowdedTek.map((t) => ({ ...t, rollingStartIntervalNumber: 2_900_000, transmissionRiskLevel: 1, reportType: 1, daysSinceOnsetOfSymptoms: 0, rollingPeriod: 144 })), { minLength: 33, maxLength: 400 }), (teks) => {
        const list = TekList.from(teks);
        expect(keyHex(list, exportOrder(list))).toEqual(keyHex(list, sortedByComparator(list)));
      }),
      { numRuns: 60 },
    );
  });

  it('orders keys whose start intervals span years like the comparator (the wide-rank path)', () => {
    fc.assert(
      fc.property(fc.array(crowdedTek.chain((t) => fc.constantFrom(0, 1, 0x7fffffff).map((start) => ({ ...t, rollingStartIntervalNumber: start }))), { maxLength: 200 }), (teks) => {
        const list = TekList.from(teks);
        expect(keyHex(list, exportOrder(list))).toEqual(keyHex(list, sortedByComparator(list)));
      }),
      { numRuns: 60 },
    );
  });

  it('does not depend on the order keys arrived in', () => {
    fc.assert(
      fc.property(fc.array(crowdedTek, { minLength: 1, maxLength: 200 }).chain((teks) => fc.tuple(fc.constant(teks), fc.shuffledSubarray(teks, { minLength: teks.length }))), ([teks, shuffled]) => {
        const a = TekList.from(teks);
        const b = TekList.from(shuffled);
        expect(keyHex(b, exportOrder(b))).toEqual(keyHex(a, exportOrder(a)));
      }),
    );
  });

  it('is a permutation of all keys', () => {
    fc.assert(
      fc.property(fc.array(crowdedTek, { maxLength: 300 }), (teks) => {
        const order = exportOrder(TekList.from(teks));
        expect([...order].sort((x, y) => x - y)).toEqual([...Array(teks.length).keys()]);
      }),
    );
  });
});
