// Lint: typed rules, with exhaustiveness on every switch over a union.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'data/', 'dist/', 'web-admin/dist/', 'miniprogram/', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'nact', message: 'Only actors/runtime imports nact.' },
          { name: 'mongoose', message: 'Only store/ imports mongoose.' },
          { name: 'socket.io', message: 'Only gateways/ import socket.io.' },
          { name: 'fastify', message: 'Only gateways/ import fastify.' },
          { name: 'onnxruntime-node', message: 'Only vision/ imports onnxruntime.' },
          { name: 'sharp', message: 'Only vision/ imports sharp.' },
          { name: 'wechatpay-node-v3', message: 'Only payments/wechatpay talks to WeChat Pay.' },
          { name: 'pino', message: 'Only common/log.ts imports pino.' },
          { name: 'prom-client', message: 'Only common/metrics.ts imports prom-client.' },
        ],
      }],
    },
  },
  // Each seam is the one place allowed to import its library.
  { files: ['actors/runtime/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['store/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['gateways/**/*.ts', 'tools/**/*.ts', 'e2e/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['vision/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['payments/wechatpay/**/*.ts', 'payments/emulator/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['common/log.ts', 'common/metrics.ts'], rules: { 'no-restricted-imports': 'off' } },
);
