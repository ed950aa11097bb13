/**
 * npm run test:unit: the pure rules (test/unit), with no server, database or
 * network, in seconds. Nothing starts but one child node (operations.test.ts runs
 * codegen to compare web/gql); reflect-metadata is there because the entity
 * classes some rules take are decorated.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/unit'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFiles: ['reflect-metadata'],
  reporters: ['default', ['<rootDir>/test/support/summary-reporter.js', { lane: 'unit tests (npm run test:unit)' }]],
};
