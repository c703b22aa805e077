/**
 * The money of many payments of one customer, as the real deciders and the settle step's pure
 * decision run it, over random interleavings of deposits, requests, submissions, provider
 * answers, contradicting reports, support resolutions, deadlines, hold expiries, settlements
 * and crashes between the steps of one operation. After every step the ledger's invariants hold;
 * after the process manager has finished its work, every hold matches its transaction.
 */
import fc from 'fast-check';
import { legsOf } from '../../src/accounts/account-legs';
import type { AccountCommand } from '../../src/accounts/account.commands';
import { decide as decideAccount } from '../../src/accounts/account.decider';
import type { AccountEvent } from '../../src/accounts/account.events';
import {
  availableBalance,
  evolve,
  fold as foldAccount,
  initialState,
} from '../../src/accounts/account.state';
import type { OpenAccount } from '../../src/accounts/account.state';
import { holdSettlement } from '../../src/process-manager/hold-settlement';
import type { TransactionCommand } from '../../src/transactions/transaction.commands';
import { decide as decideTransaction } from '../../src/transactions/transaction.decider';
import type { TransactionEvent } from '../../src/transactions/transaction.events';
import { fold as foldTransaction, isFinal } from '../../src/transactions/transaction.state';
import type { ExistingTransaction } from '../../src/transactions/transaction.state';
import { policy } from '../support/transaction-history';

const OWNER = 'alice';
const CURRENCY = 'KES';
const T0 = Date.parse('2026-12-05T10:00:00.000Z');
/** Few, so that one transaction often goes all the way: paid, settled, contradicted, reversed. */
const TRANSACTIONS = 2;
/** Every hold's expiry; the expiry step comes no earlier, as the settle step waits for it. */
const EXPIRES_AT = T0 + 3_600_000;

type ProviderAnswer = 'completed' | 'declined';

/** One step; `crash` stops an operation between its two writes, as a killed process would. */
type Step =
  | { kind: 'deposit'; amount: number }
  | { kind: 'request'; tx: number; amount: number; crash: boolean }
  | { kind: 'submit'; tx: number; crash: boolean }
  /** A worker that skips the hold step (a bug, or its account write lost): the decider must stop it. */
  | { kind: 'submitWithoutHold'; tx: number }
  | { kind: 'answer'; tx: number; status: ProviderAnswer }
  | { kind: 'report'; tx: number; status: ProviderAnswer; reportId: number }
  | { kind: 'resolve'; tx: number; status: 'SUCCEEDED' | 'FAILED' }
  | { kind: 'deadline'; tx: number }
  | { kind: 'expire'; tx: number }
  | { kind: 'settle'; tx: number; crash: boolean };

const tx = fc.nat(TRANSACTIONS - 1);
const answer = fc.constantFrom<ProviderAnswer>('completed', 'declined');
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('deposit' as const), amount: fc.integer({ min: 1, max: 400 }) }),
  fc.record({
    kind: fc.constant('request' as const),
    tx,
    amount: fc.integer({ min: 1, max: 300 }),
    crash: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('submit' as const), tx, crash: fc.boolean() }),
  fc.record({ kind: fc.constant('submitWithoutHold' as const), tx }),
  fc.record({ kind: fc.constant('answer' as const), tx, status: answer }),
  fc.record({ kind: fc.constant('report' as const), tx, status: answer, reportId: fc.nat(3) }),
  fc.record({
    kind: fc.constant('resolve' as const),
    tx,
    status: fc.constantFrom('SUCCEEDED' as const, 'FAILED' as const),
  }),
  fc.record({ kind: fc.constant('deadline' as const), tx }),
  fc.record({ kind: fc.constant('expire' as const), tx }),
  fc.record({ kind: fc.constant('settle' as const), tx, crash: fc.boolean() }),
);

/** The ledger's streams in memory, written only through the two deciders. */
class Ledger {
  readonly accountEvents: AccountEvent[] = [];
  readonly transactions = new Map<string, TransactionEvent[]>();
  private clock = T0;

  /** The clock jumps to the holds' expiry, if it is not past it already. */
  reachExpiry(): void {
    this.clock = Math.max(this.clock, EXPIRES_AT);
  }

  now(): string {
    this.clock += 1_000;
    return new Date(this.clock).toISOString();
  }

  account(): OpenAccount | null {
    const state = foldAccount(this.accountEvents);
    return state.opened ? state : null;
  }

  transaction(id: string): ExistingTransaction | null {
    const state = foldTransaction(this.transactions.get(id) ?? []);
    return state.exists ? state : null;
  }

  onAccount(command: AccountCommand): AccountEvent[] {
    const events = decideAccount(command, foldAccount(this.accountEvents));
    this.accountEvents.push(...events);
    return events;
  }

  onTransaction(id: string, command: TransactionCommand): TransactionEvent[] {
    const events = decideTransaction(command, foldTransaction(this.transactions.get(id) ?? []));
    this.transactions.set(id, [...(this.transactions.get(id) ?? []), ...events]);
    return events;
  }

  /** TransactionFunds.hold: place the hold, then record a refusal (unless it crashed between). */
  hold(transaction: ExistingTransaction, crash: boolean): void {
    const { transactionId, request } = transaction;
    this.onAccount({
      type: 'PlaceHold',
      owner: OWNER,
      currency: CURRENCY,
      holdId: transactionId,
      amount: request.amount,
      expiresAt: new Date(EXPIRES_AT).toISOString(),
      at: this.now(),
    });
    if (crash) return;
    const hold = this.account()?.holds.get(transactionId);
    if (hold?.status === 'refused') {
      const available = availableBalance(this.account()!);
      this.onTransaction(transactionId, { type: 'RecordFundsRefused', available, at: this.now() });
    }
  }

  /** The settle step: move the hold as the final status says, then record where the money is. */
  settle(id: string, crash: boolean): void {
    const transaction = this.transaction(id);
    if (!transaction) return;
    if (transaction.status === 'PENDING') return;
    const settlement = holdSettlement(transaction, this.account()?.holds.get(id), this.now());
    if (!settlement) return;
    if (settlement.command) this.onAccount(settlement.command);
    if (crash) return;
    this.onTransaction(id, { type: 'RecordFundsSettled', funds: settlement.funds, at: this.now() });
  }

  run(step: Step): void {
    if (step.kind === 'deposit') {
      this.onAccount({
        type: 'Deposit',
        owner: OWNER,
        currency: CURRENCY,
        depositId: `d-${this.accountEvents.length}`,
        amount: step.amount,
        reference: 'wire',
        at: this.now(),
      });
      return;
    }
    const id = `tx-${step.tx}`;
    if (step.kind === 'request') {
      const existing = this.transaction(id);
      const request = existing?.request ?? {
        amount: step.amount,
        currency: CURRENCY,
        recipient: 'bob',
        note: null,
      };
      this.onTransaction(id, {
        type: 'RequestTransaction',
        transactionId: id,
        owner: OWNER,
        clientId: id,
        request,
        requestedAt: this.now(),
      });
      const transaction = this.transaction(id)!;
      if (
        transaction.funds === null &&
        !isFinal(transaction) &&
        transaction.attempts.length === 0
      ) {
        this.hold(transaction, step.crash);
      }
      return;
    }
    const transaction = this.transaction(id);
    if (!transaction) return;
    if (step.kind === 'expire') this.reachExpiry();
    const at = this.now();
    switch (step.kind) {
      case 'submit': {
        // SubmitHandler: the hold first if it is not recorded, then the intent with it.
        let heldAmount: number | null = null;
        if (transaction.funds === null && !isFinal(transaction)) {
          this.hold(transaction, step.crash);
          if (step.crash) return;
          const hold = this.account()?.holds.get(id);
          if (!hold || hold.status === 'refused') return;
          heldAmount = hold.amount;
        }
        const last = transaction.attempts.at(-1);
        const attempt =
          last && last.outcome !== 'lost' ? last.number : transaction.attempts.length + 1;
        this.onTransaction(id, { type: 'StartSubmission', attempt, at, policy, heldAmount });
        return;
      }
      case 'submitWithoutHold': {
        const hold = this.account()?.holds.get(id);
        const last = transaction.attempts.at(-1);
        const attempt =
          last && last.outcome !== 'lost' ? last.number : transaction.attempts.length + 1;
        const heldAmount = hold?.status === 'held' ? hold.amount : null;
        this.onTransaction(id, { type: 'StartSubmission', attempt, at, policy, heldAmount });
        return;
      }
      case 'answer': {
        const attempt = transaction.attempts.at(-1);
        if (!attempt) return;
        this.onTransaction(id, {
          type: 'RecordSubmissionResult',
          attempt: attempt.number,
          result: { kind: 'final', status: step.status },
          at,
          jitter: 0.5,
          policy,
        });
        return;
      }
      case 'report':
        // The provider can only report what it was sent.
        if (transaction.attempts.length === 0) return;
        this.onTransaction(id, {
          type: 'RecordProviderReport',
          status: step.status,
          source: 'webhook',
          at,
          reportId: `r-${step.reportId}`,
        });
        return;
      case 'resolve':
        // Support may only settle a case, and only FAILED for one never sent (the route's 409).
        if (transaction.reconciliation === null) return;
        if (step.status === 'SUCCEEDED' && transaction.attempts.length === 0) return;
        this.onTransaction(id, {
          type: 'ResolveBySupport',
          status: step.status,
          note: 'decided by support',
          providerStatus: null,
          at,
        });
        return;
      case 'deadline':
        this.onTransaction(id, { type: 'ExpireDeadline', at });
        return;
      case 'expire':
        this.onTransaction(id, { type: 'ExpireHold', at });
        return;
      case 'settle':
        this.settle(id, step.crash);
        return;
    }
  }
}

/** What holds after every step, whatever crashed. */
function checkAlways(ledger: Ledger): void {
  // Double entry: each balance of the currency sums to zero over all accounts.
  const sums = { posted: 0, pending: 0 };
  const customer = { posted: 0, pending: 0 };
  for (const event of ledger.accountEvents) {
    for (const leg of legsOf(event)) {
      sums.posted += leg.posted;
      sums.pending += leg.pending;
      if (leg.account === 'customer') {
        customer.posted += leg.posted;
        customer.pending += leg.pending;
      }
    }
  }
  expect(sums).toEqual({ posted: 0, pending: 0 });
  const account = ledger.account();
  if (account) {
    expect(account.posted).toBe(customer.posted);
    expect(account.pending).toBe(0 - customer.pending);
  }

  // No hold beyond the available balance when it was placed; every hold names its transaction.
  let replayed = initialState;
  for (const event of ledger.accountEvents) {
    replayed = evolve(replayed, event);
    if (event.type !== 'FundsHeld') continue;
    expect(availableBalance(replayed as OpenAccount)).toBeGreaterThanOrEqual(0);
    expect(ledger.transaction(event.data.holdId)?.request.amount).toBe(event.data.amount);
  }

  for (const [id, events] of ledger.transactions) {
    const transaction = ledger.transaction(id)!;
    const hold = account?.holds.get(id);
    // No submission before its hold is recorded, on the transaction and on the account.
    const started = events.findIndex((event) => event.type === 'ProviderSubmissionStarted');
    if (started >= 0) {
      const reserved = events.findIndex((event) => event.type === 'FundsReserved');
      expect(reserved).toBeGreaterThanOrEqual(0);
      expect(reserved).toBeLessThan(started);
      expect(hold?.amount).toBe(transaction.request.amount);
      expect(hold?.status).not.toBe('refused');
    }
    if (transaction.failureReason === 'insufficient_funds') {
      expect(hold?.status).toBe('refused');
      expect(transaction.attempts).toEqual([]);
    }
  }
}

/** Once the process manager has run every settlement to the end. */
function checkSettled(ledger: Ledger): void {
  const account = ledger.account();
  let held = 0;
  for (const id of ledger.transactions.keys()) {
    const transaction = ledger.transaction(id)!;
    const hold = account?.holds.get(id);
    if (hold?.status === 'held') held += hold.amount;
    if (transaction.status === 'SUCCEEDED') {
      expect(hold?.status).toBe('posted');
      expect(transaction.funds).toBe('captured');
    } else if (transaction.status === 'FAILED') {
      expect(hold?.status === 'posted').toBe(false);
      expect(hold?.status === 'held').toBe(false);
      if (hold?.status === 'voided') expect(transaction.funds).toBe('released');
    } else {
      expect(hold?.status === 'posted' || hold?.status === 'voided').toBe(false);
    }
  }
  expect(account?.pending ?? 0).toBe(held);
}

describe('the money of payments, over random interleavings and crashes', () => {
  it('keeps double entry, never submits without a hold, and settles every hold as its transaction ended', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 80, size: 'max' }), (steps) => {
        const ledger = new Ledger();
        for (const each of steps) {
          ledger.run(each);
          checkAlways(ledger);
        }
        // The process manager's settle work runs for every transaction (final ones settle).
        for (const id of ledger.transactions.keys()) ledger.settle(id, false);
        checkAlways(ledger);
        checkSettled(ledger);
      }),
      { numRuns: 400 },
    );
  });
});
