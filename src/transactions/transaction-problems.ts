import type { DomainErrorProblem } from '../problem/problem.filter';
import {
  IdempotencyKeyReusedError,
  ResolutionNotAllowedError,
  TransactionNotFoundError,
} from './transaction.errors';
import { ConcurrentWritesError } from './transaction-streams';

/** How the decider's refusals, and the write path's giving up under contention, answer over HTTP. */
export const transactionErrorProblems: readonly DomainErrorProblem[] = [
  { error: IdempotencyKeyReusedError, kind: 'idempotencyKeyReused' },
  { error: ResolutionNotAllowedError, kind: 'resolutionNotAllowed' },
  { error: TransactionNotFoundError, kind: 'notFound' },
  { error: ConcurrentWritesError, kind: 'conflict' },
];
