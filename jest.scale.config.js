/**
 * npm run test:scale: real server processes on PostgreSQL and Redis (test/scale).
 * One fresh database per run, made by the global setup and dropped by the
 * global teardown; the files run one at a time since they start processes.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/scale'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/scale/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/scale/support/global-teardown.ts',
  maxWorkers: 1,
  testTimeout: 120000,
  // The files spawn, cut and kill processes and sockets; once the results and the global
  // teardown are in, a handle something left behind must not keep CI waiting.
  forceExit: true,
  reporters: ['default', ['<rootDir>/test/support/summary-reporter.js', { lane: 'scale tests (npm run test:scale)' }]],
};
