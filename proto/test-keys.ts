/** Key generators shared by the format library's tests and benchmarks. */
import { randomBytes, randomInt } from 'node:crypto';
import { INTERVALS_PER_DAY, type Tek } from './tek';
import { TekList } from './tek-list';

export interface RealisticKeysOptions {
  /** Midnight UTC of the newest day, as an interval number. */
  today?: number;
  /** Days the start intervals spread over. */
  days?: number;
}

/**
 * Keys as a national server receives them: daily keys (start at midnight UTC) spread over 14 days,
 * mixed transmission risks, report type confirmed, days since onset spread -14..14.
 */
export function realisticKeys(count: number, options: RealisticKeysOptions = {}): TekList {
  const today = options.today ?? Math.floor(Date.now() / 86_400_000) * INTERVALS_PER_DAY;
  const days = options.days ?? 14;
  const bytes = randomBytes(16 * count);
  const list = new TekList(count);
  for (let i = 0; i < count; i++) {
    const tek: Tek = {
      keyData: bytes.subarray(16 * i, 16 * i + 16),
      rollingStartIntervalNumber: today - INTERVALS_PER_DAY * randomInt(days),
      rollingPeriod: INTERVALS_PER_DAY,
      transmissionRiskLevel: randomInt(9),
      reportType: 1,
      daysSinceOnsetOfSymptoms: randomInt(-14, 15),
    };
    list.push(tek);
  }
  return list;
}
