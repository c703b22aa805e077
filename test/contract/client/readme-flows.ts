/**
 * The README's flows as a mobile team's client would write them, against nothing but the types
 * openapi-typescript generates from openapi.json (./ledger-api, written beside this file by
 * generated-client.spec.ts, which type-checks it strictly; it is never run).
 */
import type { paths } from './ledger-api';

type RequestTransaction = paths['/v1/transactions']['post'];
type ReadTransaction = paths['/v1/transactions/{id}']['get'];
type ListTransactions = paths['/v1/transactions']['get'];

export type TransactionRequest = RequestTransaction['requestBody']['content']['application/json'];
export type Transaction = ReadTransaction['responses'][200]['content']['application/json'];
type TransactionPage = ListTransactions['responses'][200]['content']['application/json'];

/** Every problem POST /v1/transactions can answer, each status with its own `type` values. */
export type RequestProblem = RequestTransaction['responses'][
  400 | 401 | 408 | 409 | 413 | 414 | 415 | 422 | 429 | 431]['content']['application/problem+json'];

export type Answer<T> =
  | { ok: true; value: T; replayed: boolean }
  | { ok: false; problem: RequestProblem; retryAfterSeconds: number | null };

const BASE_URL = 'http://127.0.0.1:3000';

function headers(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...extra };
}

/** Request a transaction (the body id is the idempotency key); a retry replays the answer. */
export async function requestTransaction(
  token: string,
  body: TransactionRequest,
  waitSeconds?: number,
): Promise<Answer<Transaction>> {
  const response = await fetch(`${BASE_URL}/v1/transactions`, {
    method: 'POST',
    headers: headers(token, {
      'Content-Type': 'application/json',
      ...(waitSeconds === undefined ? {} : { Prefer: `wait=${waitSeconds}` }),
    }),
    body: JSON.stringify(body),
  });
  if (response.status === 202 || response.status === 200) {
    const accepted: RequestTransaction['responses'][202 | 200]['content']['application/json'] =
      (await response.json()) as Transaction;
    return {
      ok: true,
      value: accepted,
      replayed: response.headers.get('Idempotent-Replayed') === 'true',
    };
  }
  const retryAfter = response.headers.get('Retry-After');
  return {
    ok: false,
    problem: (await response.json()) as RequestProblem,
    retryAfterSeconds: retryAfter === null ? null : Number(retryAfter),
  };
}

/** Read it back, waiting up to `waitSeconds` for the final status. */
export async function readTransaction(
  token: string,
  id: string,
  waitSeconds: number,
): Promise<{ transaction: Transaction; etag: string } | null> {
  const response = await fetch(`${BASE_URL}/v1/transactions/${encodeURIComponent(id)}`, {
    headers: headers(token, { Prefer: `wait=${waitSeconds}` }),
  });
  if (response.status !== 200) return null;
  return {
    transaction: (await response.json()) as Transaction,
    etag: response.headers.get('ETag') ?? '',
  };
}

/** Long-poll: the next change after `etag`, or null when there was none within the wait (304). */
export async function nextChange(
  token: string,
  id: string,
  etag: string,
): Promise<Transaction | null> {
  const response = await fetch(`${BASE_URL}/v1/transactions/${encodeURIComponent(id)}`, {
    headers: headers(token, { Prefer: 'wait=20', 'If-None-Match': etag }),
  });
  if (response.status === 304) return null;
  return (await response.json()) as Transaction;
}

/** One page of the caller's transactions, newest first. */
export async function listTransactions(
  token: string,
  query: ListTransactions['parameters']['query'],
): Promise<TransactionPage> {
  const search = new URLSearchParams();
  if (query?.limit !== undefined) search.set('limit', String(query.limit));
  if (query?.status !== undefined) search.set('status', query.status);
  if (query?.cursor !== undefined) search.set('cursor', query.cursor);
  const response = await fetch(`${BASE_URL}/v1/transactions?${search.toString()}`, {
    headers: headers(token),
  });
  return (await response.json()) as TransactionPage;
}

/** What to tell the user, or do, for each problem; the compiler fails on one not handled. */
export function handle(problem: RequestProblem): string {
  switch (problem.type) {
    case 'urn:payment-ledger:problem:validation-failed':
      return (problem.errors ?? []).map((error) => `${error.field}: ${error.message}`).join('; ');
    case 'urn:payment-ledger:problem:malformed-body':
    case 'urn:payment-ledger:problem:body-too-deep':
    case 'urn:payment-ledger:problem:malformed-url':
    case 'urn:payment-ledger:problem:malformed-request':
    case 'urn:payment-ledger:problem:body-too-large':
    case 'urn:payment-ledger:problem:uri-too-long':
    case 'urn:payment-ledger:problem:unsupported-media-type':
    case 'urn:payment-ledger:problem:header-fields-too-large':
      return `client bug: ${problem.title}`;
    case 'urn:payment-ledger:problem:idempotency-key-mismatch':
      return 'send the same id in Idempotency-Key and the body';
    case 'urn:payment-ledger:problem:unauthenticated':
      return 'sign in again';
    case 'urn:payment-ledger:problem:request-timeout':
    case 'urn:payment-ledger:problem:conflict':
      return 'retry with the same id';
    case 'urn:payment-ledger:problem:rate-limited':
      return 'retry after Retry-After seconds';
    case 'urn:payment-ledger:problem:idempotency-key-reused':
      return 'this id was used for another payment: choose a new id';
    case 'urn:payment-ledger:problem:insufficient-funds':
      return `not enough money; see ${problem.transaction ?? 'the transaction'}`;
    default: {
      const unhandled: never = problem;
      return `unknown problem ${JSON.stringify(unhandled)}`;
    }
  }
}

/** The README's quick start: request, replay, read with a wait, long-poll, list. */
export async function quickStart(token: string): Promise<string> {
  const order: TransactionRequest = {
    id: 'order-1001',
    amount: 2500,
    currency: 'KES',
    recipient: '+254700000001',
    note: 'rent',
  };
  const first = await requestTransaction(token, order);
  if (!first.ok) return handle(first.problem);
  const replay = await requestTransaction(token, order);
  if (!replay.ok || !replay.replayed) return 'the replay should answer the same';
  const read = await readTransaction(token, order.id, 20);
  if (read && read.transaction.status === 'PENDING') {
    await nextChange(token, order.id, read.etag);
  }
  const page = await listTransactions(token, { limit: 20, status: 'PENDING' });
  return `${page.items.length} pending, next page: ${page.nextCursor ?? 'none'}`;
}
