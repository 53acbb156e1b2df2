/**
 * One jest run, two projects: the service (node; one FerretDB for the whole run, started by
 * test/global-setup.ts, each test file in a database of its own) and the mini-program (jsdom +
 * miniprogram-simulate, miniprogram/jest.config.js). The summary reporter prints the plain closing line.
 */
const service = {
  displayName: 'service',
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/web-admin/', '/miniprogram/', '/\\.cache/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  testTimeout: 30000,
};

// The operator console: unit tests of its pure parts and the browser tests (playwright-core driving Debian's
// chromium against the real service; web-admin/test/browser.ts).
const webAdmin = {
  ...service,
  displayName: 'web-admin',
  roots: ['<rootDir>/web-admin'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120000,
};

// Worker count is a run-wide option; the mini-program's own file sets it for standalone runs.
const { maxWorkers: _standaloneOnly, ...miniprogram } = require('./miniprogram/jest.config.js');

module.exports = {
  projects: [service, webAdmin, { ...miniprogram, displayName: 'miniprogram' }],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  maxWorkers: 2,
  // Jest reads testTimeout from the run-wide config (a project's own is ignored): 30 s for every test, so a
  // first inference or a browser step on the loaded 2-core machine is not cut at the 5 s default.
  testTimeout: 30000,
  // A test that leaks a timer must not hang CI; leaks still show up as a warning.
  forceExit: true,
};
