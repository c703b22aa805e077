import { Random } from '../shared/random';
import type { TransactionRequest } from '../transactions/transaction.events';

/** What the customers do, each at a virtual time (ms since the run began). */
export type CustomerAction =
  | {
      kind: 'deposit';
      at: number;
      owner: string;
      currency: string;
      depositId: string;
      amount: number;
    }
  | {
      kind: 'overdraft';
      at: number;
      owner: string;
      currency: string;
      changeId: string;
      limit: number;
    }
  /** One try of a request; retries and duplicates are more tries with the same id and body. */
  | { kind: 'request'; at: number; owner: string; clientId: string; request: TransactionRequest };

export interface Workload {
  actions: CustomerAction[];
  /** When the last customer action is due. */
  lastActionAt: number;
}

const CURRENCIES = ['KES', 'EUR'];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random.next() * items.length)];
}

function between(random: Random, low: number, high: number): number {
  return low + Math.floor(random.next() * (high - low + 1));
}

/**
 * A seeded workload: customers funded by deposits (some with an overdraft limit, some with
 * nothing), `transactions` requests spread over about a second each, some beyond the balance,
 * some retried later with the same id and body, some duplicated at the same instant, and some
 * reusing a client id another owner already used (two owners, one id, two transactions).
 */
export function generateWorkload(random: Random, transactions: number): Workload {
  const windowMs = Math.max(60_000, transactions * 1_000);
  const customers = Array.from(
    { length: Math.max(3, Math.ceil(transactions / 8)) },
    (_, index) => ({
      owner: `customer-${index + 1}`,
      currency: pick(random, CURRENCIES),
    }),
  );
  const actions: CustomerAction[] = [];
  customers.forEach(({ owner, currency }, index) => {
    const funded = random.next() < 0.85;
    if (funded) {
      actions.push({
        kind: 'deposit',
        at: between(random, 0, 5_000),
        owner,
        currency,
        depositId: `opening-${index + 1}`,
        amount: between(random, 1_000, 30_000),
      });
    }
    if (random.next() < 0.25) {
      actions.push({
        kind: 'overdraft',
        at: between(random, 0, windowMs),
        owner,
        currency,
        changeId: `limit-${index + 1}`,
        limit: between(random, 500, 10_000),
      });
    }
    if (random.next() < 0.3) {
      actions.push({
        kind: 'deposit',
        at: between(random, 0, windowMs),
        owner,
        currency,
        depositId: `top-up-${index + 1}`,
        amount: between(random, 1_000, 10_000),
      });
    }
  });

  const requested: { owner: string; clientId: string }[] = [];
  for (let n = 1; n <= transactions; n++) {
    const { owner, currency } = pick(random, customers);
    const others = requested.filter((earlier) => earlier.owner !== owner);
    const clientId =
      others.length > 0 && random.next() < 0.05 ? pick(random, others).clientId : `order-${n}`;
    requested.push({ owner, clientId });
    const request: TransactionRequest = {
      amount: between(random, 100, 8_000),
      currency,
      recipient: `merchant-${between(random, 1, 20)}`,
      note: random.next() < 0.5 ? null : `note ${n}`,
    };
    const at = between(random, 1_000, windowMs);
    actions.push({ kind: 'request', at, owner, clientId, request });
    if (random.next() < 0.1) actions.push({ kind: 'request', at, owner, clientId, request });
    for (let retry = 0; random.next() < 0.3 && retry < 3; retry++) {
      actions.push({
        kind: 'request',
        at: at + between(random, 500, 60_000),
        owner,
        clientId,
        request,
      });
    }
  }
  // Stable order for equal times: the order they were drawn in.
  const ordered = actions.map((action, index) => ({ action, index }));
  ordered.sort((a, b) => a.action.at - b.action.at || a.index - b.index);
  return {
    actions: ordered.map(({ action }) => action),
    lastActionAt: Math.max(...actions.map((action) => action.at)),
  };
}
