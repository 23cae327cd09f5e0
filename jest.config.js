// Unit tests sit beside the code (`*.test.ts`); tests that span components live in `test/`.
const fs = require('node:fs');
const path = require('node:path');

// The rooms of the house (README "Where things live"); a room without code yet is left out.
const rooms = ['proto', 'platform', 'exposures', 'api', 'publisher', 'edge-config', 'infra', 'client', 'site', 'scripts', 'test'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Jest 30 soft-deletes globals between test files and warns (once per worker, on stderr) when one is
  // read afterwards; the warning then lands in whichever test captures stderr at that moment.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  roots: rooms.filter((room) => fs.existsSync(path.join(__dirname, room))).map((room) => `<rootDir>/${room}`),
  testMatch: ['**/*.test.ts'],
  // Type checking is `tsc --noEmit` in `npm test`; jest only transpiles.
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
};
