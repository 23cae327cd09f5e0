import { CANONICAL_GUID_PATTERN, GUID_PATTERN } from './ids';

describe('GUID patterns', () => {
  it.each([
    ['6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d', true, true],
    ['6F1C2A4E-0B7D-4C55-9A1E-2D3F4A5B6C7D', true, false],
    ['6f1c2a4e0b7d4c559a1e2d3f4a5b6c7d', false, false],
    ['{6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d}', false, false],
    ['6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7g', false, false],
    [' 6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d', false, false],
  ])('%s: a GUID %p, canonical %p', (text, guid, canonical) => {
    expect([GUID_PATTERN.test(text), CANONICAL_GUID_PATTERN.test(text)]).toEqual([guid, canonical]);
  });
});
