import { isAcceptedFrontDoorId } from './front-door';

const current = '7a1f3c52-9b1e-4f0a-8d2c-3e4b5a6c7d8e';
const next = '11111111-2222-3333-4444-555555555555';

describe('isAcceptedFrontDoorId', () => {
  it.each([
    [current, true],
    [next, true],
    [current.toUpperCase(), true],
    [` ${current} `, true],
    [null, false],
    ['', false],
    ['7a1f3c52-9b1e-4f0a-8d2c-3e4b5a6c7d8f', false],
    [`${current},${next}`, false],
    [current.slice(0, 35), false],
    ['*', false],
  ])('%p -> %p', (value, accepted) => {
    expect(isAcceptedFrontDoorId(value, [current, next])).toBe(accepted);
  });

  it('accepts nothing when no ID is configured', () => {
    expect(isAcceptedFrontDoorId(current, [])).toBe(false);
  });
});
