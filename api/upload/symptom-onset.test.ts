import { intervalNumberOf } from '../../proto/tek';
import { chooseOnsetInterval, daysSinceOnset, isPlausibleDaysSinceOnset } from './symptom-onset';

const now = new Date('2026-11-30T12:00:00Z');
const current = intervalNumberOf(now);
const midnight = current - 72;

describe('symptom onset', () => {
  it('takes the first plausible candidate: in the past, at most 28 days old', () => {
    expect(chooseOnsetInterval([midnight - 144, midnight - 288], now)).toBe(midnight - 144);
    expect(chooseOnsetInterval([undefined, midnight - 288], now)).toBe(midnight - 288);
    expect(chooseOnsetInterval([current + 1, midnight - 288], now)).toBe(midnight - 288);
    expect(chooseOnsetInterval([midnight - 29 * 144], now)).toBeUndefined();
    expect(chooseOnsetInterval([midnight - 28 * 144], now)).toBe(midnight - 28 * 144);
    expect(chooseOnsetInterval([current], now)).toBeUndefined();
    expect(chooseOnsetInterval([1.5], now)).toBeUndefined();
  });

  it('counts whole UTC days from the onset day to the key start day', () => {
    expect(daysSinceOnset(midnight + 10, midnight)).toBe(0);
    expect(daysSinceOnset(midnight - 1, midnight + 143)).toBe(1);
    expect(daysSinceOnset(midnight, midnight - 3 * 144 + 5)).toBe(-3);
  });

  it('accepts -14..14 days only', () => {
    expect([-15, -14, 0, 14, 15].map(isPlausibleDaysSinceOnset)).toEqual([false, true, true, true, false]);
  });
});
