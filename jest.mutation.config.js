/**
 * The Jest run Stryker uses (`npm run test:mutation`): only the pure specs of the domain core, so
 * each mutant is tested in milliseconds. No global setup: none of these touches a container,
 * a file or the clock.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: base.testEnvironment,
  transform: base.transform,
  roots: ['<rootDir>/src'],
  testMatch: [
    '**/transactions/transaction.*.spec.ts',
    '**/process-manager/process-manager.spec.ts',
    '**/process-manager/hold-settlement.spec.ts',
    '**/provider/status-checks/status-check-budget.spec.ts',
    '**/event-store/hash-chain.spec.ts',
    '**/accounts/account.*.spec.ts',
    '**/accounts/account-legs.spec.ts',
  ],
};
