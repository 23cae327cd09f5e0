// Unit tests sit beside the code (`*.test.ts`); tests that span components live in `test/`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/proto', '<rootDir>/api', '<rootDir>/publisher', '<rootDir>/edge-config', '<rootDir>/scripts', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking is `tsc --noEmit` in `npm test`; jest only transpiles.
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
};
