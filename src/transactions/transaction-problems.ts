import type { DomainErrorProblem } from '../problem/problem.filter';
import {
  IdempotencyKeyReusedError,
  ResolutionNotAllowedError,
  TransactionNotFoundError,
} from './transaction.decider';

/** How the decider's refusals answer over HTTP. */
export const transactionErrorProblems: readonly DomainErrorProblem[] = [
  { error: IdempotencyKeyReusedError, kind: 'idempotencyKeyReused' },
  { error: ResolutionNotAllowedError, kind: 'resolutionNotAllowed' },
  { error: TransactionNotFoundError, kind: 'notFound' },
];
