/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts', '**/*.containers.ts'],
  // Transpile only (isolatedModules): types are checked once by `npm run lint`. A few
  // dependencies ship only ES modules; Node 20.19+ requires them natively, Jest's CommonJS loader
  // cannot, so they are compiled too (the innermost node_modules folder decides).
  transform: { '^.+\\.(ts|js|mjs)$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  transformIgnorePatterns: ['/node_modules/(?!(jose|content-disposition)/)(?!.*/node_modules/)'],
  globalSetup: '<rootDir>/test/setup/container-runtime.global-setup.js',
  testTimeout: 30000,
  // Keep the summary as the last thing CI prints.
  verbose: false,
};
