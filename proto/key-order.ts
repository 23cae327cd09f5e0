/**
 * The order of keys in a published file: grouped by their metadata (start interval, period, risk,
 * report type, days since onset), and by key bytes inside a group.
 *
 * Why: the 16 random bytes of each key cannot be compressed, but the rest of a record can, and
 * it compresses to almost nothing when neighbouring records share their metadata; sorted keys
 * also share leading bits with their neighbours (measured in `npm run bench:export`). Why it is
 * safe: the order depends only on each key's own fields, never on when or with which other keys
 * it arrived, so it reveals nothing about who uploaded together.
 *
 * The order is produced one group at a time so that the encoder and deflate can start on the
 * first group while later ones are still unsorted. Inside a group, keys are sorted natively as
 * a BigUint64Array of (leading 44 key bits, position) words instead of with a comparator, which
 * costs more than deflating the whole file; keys whose leading bits tie are settled bytewise.
 */
import { endianness } from 'node:os';
import { MAX_KEYS_PER_FILE } from './tek';
import type { TekList } from './tek-list';

const POSITION_BITS = 20; // 2^20 > MAX_KEYS_PER_FILE
const POSITION_MASK = 2 ** POSITION_BITS - 1;
/** Below this size a group is sorted with a comparator: packing words costs more than it saves. */
const SMALL_GROUP = 32;

/** The metadata as one integer below 2^53 whose numeric order is the group order. */
export function metadataRank(keys: TekList, i: number): number {
  const reportType = keys.reportType[i] + 1; // -1 (none)..5 -> 0..6: 3 bits
  const onset = keys.hasOnset(i) ? keys.onset[i] + 15 : 0; // none, -14..14 -> 0..29: 5 bits
  // start (31 bits) | period (8) | risk (4) | report type (3) | onset (5) = 51 bits
  return (((keys.start[i] * 256 + keys.period[i]) * 16 + keys.risk[i]) * 8 + reportType) * 32 + onset;
}

function compareKeys(bytes: Uint8Array, a: number, b: number): number {
  for (let k = 0; k < 16; k++) {
    const d = bytes[a * 16 + k] - bytes[b * 16 + k];
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * A group key per key, equal exactly when the metadata is equal. A small integer (a Smi, which
 * V8 hashes fast) when the start intervals span less than ~27 days, as they do in real files;
 * otherwise the full metadata rank.
 */
function groupKeys(keys: TekList): ArrayLike<number> {
  let minStart = Infinity;
  let maxStart = -Infinity;
  for (let i = 0; i < keys.length; i++) {
    if (keys.start[i] < minStart) minStart = keys.start[i];
    if (keys.start[i] > maxStart) maxStart = keys.start[i];
  }
  // period 1..144 (145), risk 0..8 (9), report type -1..5 (7), onset none/-14..14 (30)
  if ((maxStart - minStart + 1) * 145 * 9 * 7 * 30 >= 2 ** 30) return Float64Array.from({ length: keys.length }, (_, i) => metadataRank(keys, i));
  const out = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    out[i] = ((((keys.start[i] - minStart) * 145 + keys.period[i]) * 9 + keys.risk[i]) * 7 + keys.reportType[i] + 1) * 30 + (keys.hasOnset(i) ? keys.onset[i] + 15 : 0);
  }
  return out;
}

/** Indices of the keys grouped by metadata, groups in metadata order: a counting sort by dense group number. */
function groupByMetadata(keys: TekList): { grouped: Uint32Array; offsets: Uint32Array } {
  const idOfKey = new Map<number, number>();
  const firstOfGroup: number[] = [];
  const groupOf = new Uint32Array(keys.length);
  const groupKey = groupKeys(keys);
  for (let i = 0; i < keys.length; i++) {
    const key = groupKey[i];
    let id = idOfKey.get(key);
    if (id === undefined) {
      id = firstOfGroup.length;
      idOfKey.set(key, id);
      firstOfGroup.push(i);
    }
    groupOf[i] = id;
  }
  // Number the groups in metadata order.
  const byRank = firstOfGroup.map((_, id) => id).sort((a, b) => metadataRank(keys, firstOfGroup[a]) - metadataRank(keys, firstOfGroup[b]));
  const ordinal = new Uint32Array(byRank.length);
  byRank.forEach((id, n) => {
    ordinal[id] = n;
  });
  const groups = byRank.length;
  const offsets = new Uint32Array(groups + 1);
  for (let i = 0; i < keys.length; i++) offsets[ordinal[groupOf[i]] + 1]++;
  for (let g = 0; g < groups; g++) offsets[g + 1] += offsets[g];
  const next = offsets.slice(0, groups);
  const grouped = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) grouped[next[ordinal[groupOf[i]]]++] = i;
  return { grouped, offsets };
}

/** Sorts one group's indices (in place) by key bytes. */
function sortGroup(bytes: Uint8Array, group: Uint32Array): void {
  if (group.length <= SMALL_GROUP) {
    group.sort((a, b) => compareKeys(bytes, a, b));
    return;
  }
  const words = new BigUint64Array(group.length);
  const halves = new Uint32Array(words.buffer); // little-endian: [low, high] per word
  for (let p = 0; p < group.length; p++) {
    const o = group[p] * 16;
    // high: key bits 0..31; low: key bits 32..43, then the position in the group.
    halves[2 * p + 1] = ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
    halves[2 * p] = (((bytes[o + 4] << 4) | (bytes[o + 5] >>> 4)) * 2 ** POSITION_BITS + p) >>> 0;
  }
  words.sort();
  const sorted = new Uint32Array(group.length);
  let runStart = 0;
  for (let p = 0; p < group.length; p++) {
    sorted[p] = group[halves[2 * p] & POSITION_MASK];
    const tie = p > 0 && halves[2 * p + 1] === halves[2 * p - 1] && halves[2 * p] >>> POSITION_BITS === halves[2 * p - 2] >>> POSITION_BITS;
    if (!tie) {
      if (p - runStart > 1) sorted.subarray(runStart, p).sort((a, b) => compareKeys(bytes, a, b));
      runStart = p;
    }
  }
  if (group.length - runStart > 1) sorted.subarray(runStart).sort((a, b) => compareKeys(bytes, a, b));
  group.set(sorted);
}

/**
 * The publication order of `keys`, one metadata group at a time: each yielded array holds the
 * indices of keys that share all metadata, in key-byte order. Deterministic: the same set of keys
 * gives the same order whatever order they came in.
 */
export function* exportOrderGroups(keys: TekList): Generator<Uint32Array> {
  if (keys.length > MAX_KEYS_PER_FILE) throw new RangeError(`at most ${MAX_KEYS_PER_FILE} keys fit one file`);
  if (endianness() !== 'LE') throw new Error('the key order packs sort words for little-endian machines');
  const { grouped, offsets } = groupByMetadata(keys);
  for (let g = 0; g + 1 < offsets.length; g++) {
    const group = grouped.subarray(offsets[g], offsets[g + 1]);
    sortGroup(keys.keyBytes, group);
    yield group;
  }
}

/** The whole publication order as one permutation (`order[n]` = index of the n-th key). */
export function exportOrder(keys: TekList): Uint32Array {
  const order = new Uint32Array(keys.length);
  let n = 0;
  for (const group of exportOrderGroups(keys)) {
    order.set(group, n);
    n += group.length;
  }
  return order;
}

/** The same order by a plain comparator over indices: the definition the fast path is tested against. */
export function compareForExport(keys: TekList, a: number, b: number): number {
  return metadataRank(keys, a) - metadataRank(keys, b) || compareKeys(keys.keyBytes, a, b);
}
