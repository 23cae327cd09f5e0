/**
 * The privacy floor: a file with only a handful of keys tells an observer that those keys came
 * from very few people, perhaps from one. Below the minimum, the publisher either holds keys back
 * until a later window has enough (hold mode, decided in `steps/next-range.ts`) or pads the file with generated
 * keys (pad mode, the default, as the reference server does with 1,000 plus up to 100 so that no
 * real key waits). Generated keys copy the metadata of real keys of the same file, so that
 * neither their metadata nor the file order (grouped by metadata, sorted by key bytes) sets them
 * apart, and the count gets random jitter, so that the real count cannot be read off the total.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { KEY_LENGTH, type Tek } from '../proto/tek';
import type { TekList } from '../proto/tek-list';

export interface FloorSettings {
  minKeysPerFile: number;
  paddingJitter: number;
  maxKeysPerFile: number;
}

export interface FloorRandom {
  /** An integer in [min, max), like `crypto.randomInt`. */
  int(min: number, max: number): number;
  bytes(size: number): Buffer;
}

/** Cryptographic randomness: generated keys must be indistinguishable from real ones. */
export const CRYPTO_RANDOM: FloorRandom = { int: (min, max) => randomInt(min, max), bytes: (size) => randomBytes(size) };

/**
 * How many generated keys to add to a file of `primaryKeys` real keys and `revisedKeys` revised
 * ones. None for a file without primary keys (revised keys revise keys already public: padding
 * them hides nothing) or one that already meets the minimum; otherwise up to the minimum plus
 * 0..jitter, never past the maximum file size.
 */
export function paddingCount(primaryKeys: number, revisedKeys: number, settings: FloorSettings, random: FloorRandom = CRYPTO_RANDOM): number {
  if (primaryKeys === 0 || primaryKeys >= settings.minKeysPerFile) return 0;
  const target = settings.minKeysPerFile + random.int(0, settings.paddingJitter + 1);
  return Math.max(0, Math.min(target, settings.maxKeysPerFile - revisedKeys) - primaryKeys);
}

/** Appends `count` generated keys to `keys`: fresh random key data, the metadata of a randomly chosen real key of the list. */
export function appendPadding(keys: TekList, count: number, random: FloorRandom = CRYPTO_RANDOM): void {
  const real = keys.length;
  if (count <= 0) return;
  if (real === 0) throw new RangeError('padding copies the metadata of real keys: the list has none');
  const keyData = random.bytes(count * KEY_LENGTH);
  for (let i = 0; i < count; i++) {
    const source = random.int(0, real);
    const tek: Tek = {
      keyData: keyData.subarray(i * KEY_LENGTH, (i + 1) * KEY_LENGTH),
      rollingStartIntervalNumber: keys.start[source],
      rollingPeriod: keys.period[source],
      transmissionRiskLevel: keys.risk[source],
    };
    if (keys.hasReportType(source)) tek.reportType = keys.reportType[source];
    if (keys.hasOnset(source)) tek.daysSinceOnsetOfSymptoms = keys.onset[source];
    keys.push(tek);
  }
}
