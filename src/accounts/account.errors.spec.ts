import {
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
  HoldNotSettledError,
  InvalidAmountError,
} from './account.errors';

/** The messages reach operators and support as problem details: each says what was refused. */
describe('account errors', () => {
  // Built inside each test, so the mutation run sees each test cover its error's constructor.
  it.each([
    [
      () => new AccountCommandIdReusedError('Deposit', 'wire-1'),
      'Deposit id wire-1 was already used with different details',
    ],
    [() => new InvalidAmountError('amount must be at least 1'), 'amount must be at least 1'],
    [() => new HoldNotFoundError('tx-1'), 'No hold tx-1 on this account'],
    [() => new HoldAlreadySettledError('tx-1', 'posted'), 'Hold tx-1 was already posted'],
    [
      () => new HoldNotExpiredError('tx-1', '2026-12-05T11:00:00.000Z'),
      'Hold tx-1 does not expire before 2026-12-05T11:00:00.000Z',
    ],
    [
      () => new HoldNotSettledError('tx-1'),
      'Hold tx-1 is still held: post or void it instead of reversing it',
    ],
  ])('%#: %s', (makeError, message) => {
    expect(makeError().message).toBe(message);
  });
});
