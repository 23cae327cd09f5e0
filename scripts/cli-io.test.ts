import { CliError } from './cli-error';
import { parseInstantOption } from './cli-io';

describe('parseInstantOption', () => {
  it.each([
    ['2026-11-30T00:00:00Z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T01:30:00+01:30', '2026-11-30T00:00:00.000Z'],
    ['2026-11-29T19:00:00-05:00', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T00:00Z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T00:00:00.25Z', '2026-11-30T00:00:00.250Z'],
    ['2028-02-29T23:59:59Z', '2028-02-29T23:59:59.000Z'],
  ])('reads %s as the instant %s', (value, instant) => {
    expect(parseInstantOption(value, '--now').toISOString()).toBe(instant);
  });

  it.each([
    ['2026-02-30T00:00:00Z', /that exists/],
    ['2027-02-29T00:00:00Z', /that exists/],
    ['2026-11-30T24:00:00Z', /that exists/],
    ['2026-11-30T00:60:00Z', /that exists/],
    ['2026-11-30T00:00:60Z', /that exists/],
    ['2026-11-30T00:00:00+24:00', /that exists/],
    ['2026-11-30T00:00:00', /with Z or a UTC offset/],
    ['2026-11-30', /with Z or a UTC offset/],
    ['2026-11-30 00:00:00Z', /with Z or a UTC offset/],
    ['1796083200', /with Z or a UTC offset/],
  ])('refuses %s', (value, message) => {
    expect(() => parseInstantOption(value, '--now')).toThrow(CliError);
    expect(() => parseInstantOption(value, '--now')).toThrow(message);
  });
});
