// npm test runs it on SQLite, npm run test:pg with TEST_DATABASE_URL on PostgreSQL.
const database = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The pure rules: npm run test:unit (jest.unit.config.js). Server processes on PostgreSQL
  // and Redis: npm run test:scale (jest.scale.config.js).
  // The demo always runs on a SQLite file of its own, and the browser tests (test/browser) try
  // the pages, whose database is the API's business: the PostgreSQL lane would run them unchanged.
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/unit/',
    '<rootDir>/test/scale/',
    ...(process.env.TEST_DATABASE_URL ? ['<rootDir>/test/demo.test.ts', '<rootDir>/test/browser/'] : []),
  ],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFiles: ['reflect-metadata'],
  // Compiles the server once for the tests that start it (or a command) in a child process.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 20000,
  // Each file loads the whole server afresh, and run in one process the files' leftovers pile up
  // (1.9 GB by the end): the concurrency test then ran 4.7 times slower than alone, in garbage
  // collection. With a limit, the files run in a worker that is replaced once it grows past it
  // (one worker on a two-core machine: still one file at a time).
  workerIdleMemoryLimit: '600MB',
  reporters: ['default', ['<rootDir>/test/support/summary-reporter.js', { lane: `integration tests on ${database}` }]],
};
