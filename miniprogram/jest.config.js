/**
 * The mini-program's own suite: jsdom + miniprogram-simulate for pages and components, plain jest for utils.
 * Run from the repo root: npx jest -c miniprogram/jest.config.js
 */
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/miniprogram'],
  testEnvironment: 'jsdom',
  testMatch: ['**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2020', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  testTimeout: 10000,
  maxWorkers: 2,
};
