import type { DomainErrorProblem } from '../problem/problem.filter';
import { AccountCommandIdReusedError, InvalidAmountError } from './account.errors';
import { AccountConcurrentWritesError } from './account-streams';

/**
 * How the refusals the account routes can meet answer over HTTP. The hold errors join when the
 * transaction flow places holds (docs/accounts.md).
 */
export const accountErrorProblems: readonly DomainErrorProblem[] = [
  { error: AccountCommandIdReusedError, kind: 'accountIdReused' },
  { error: InvalidAmountError, kind: 'validationFailed' },
  { error: AccountConcurrentWritesError, kind: 'conflict' },
];
