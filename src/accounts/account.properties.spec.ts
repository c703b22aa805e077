import fc from 'fast-check';
import type { AccountCommand } from './account.commands';
import { decide } from './account.decider';
import {
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
} from './account.errors';
import type { AccountEvent } from './account.events';
import { availableBalance, evolve, fold, initialState } from './account.state';
import type { AccountState } from './account.state';

const ACCOUNT = { owner: 'alice', currency: 'KES' };
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const HOLD_TTL_MS = 15 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** One step of a run: a new command over small id pools (so ids collide), or a replay. */
type Step =
  | { kind: 'deposit'; id: number; amount: number; reference: 'a' | 'b' }
  | { kind: 'overdraft'; id: number; limit: number }
  | { kind: 'hold'; id: number; amount: number }
  | { kind: 'post'; id: number }
  | { kind: 'void'; id: number; expired: boolean }
  | { kind: 'replay'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('deposit' as const),
    id: fc.nat(3),
    amount: fc.integer({ min: 1, max: 500 }),
    reference: fc.constantFrom('a' as const, 'b' as const),
  }),
  fc.record({ kind: fc.constant('overdraft' as const), id: fc.nat(2), limit: fc.nat(300) }),
  fc.record({
    kind: fc.constant('hold' as const),
    id: fc.nat(7),
    amount: fc.integer({ min: 1, max: 600 }),
  }),
  fc.record({ kind: fc.constant('post' as const), id: fc.nat(7) }),
  fc.record({ kind: fc.constant('void' as const), id: fc.nat(7), expired: fc.boolean() }),
  fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }),
);

function commandFor(s: Exclude<Step, { kind: 'replay' }>, at: number): AccountCommand {
  const base = { ...ACCOUNT, at: iso(at) };
  switch (s.kind) {
    case 'deposit':
      return {
        type: 'Deposit',
        ...base,
        depositId: `dep-${s.id}`,
        amount: s.amount,
        reference: s.reference,
      };
    case 'overdraft':
      return { type: 'SetOverdraftLimit', ...base, changeId: `od-${s.id}`, limit: s.limit };
    case 'hold':
      return {
        type: 'PlaceHold',
        ...base,
        holdId: `tx-${s.id}`,
        amount: s.amount,
        expiresAt: iso(at + HOLD_TTL_MS),
      };
    case 'post':
      return { type: 'PostHold', ...base, holdId: `tx-${s.id}` };
    case 'void':
      return {
        type: 'VoidHold',
        ...base,
        holdId: `tx-${s.id}`,
        reason: s.expired ? 'expired' : 'transaction_failed',
      };
  }
}

/** The balances as the events alone say, summed without the state's bookkeeping. */
function sums(events: readonly AccountEvent[]) {
  let posted = 0;
  let pending = 0;
  for (const event of events) {
    if (event.type === 'FundsDeposited') posted += event.data.amount;
    if (event.type === 'FundsHeld') pending += event.data.amount;
    if (event.type === 'HoldPosted') {
      posted -= event.data.amount;
      pending -= event.data.amount;
    }
    if (event.type === 'HoldVoided') pending -= event.data.amount;
  }
  return { posted, pending };
}

const available = (state: AccountState) => (state.opened ? availableBalance(state) : 0);

const REFUSALS = [
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
];

describe('account decider, over random sequences of deposits, holds, posts, voids and replays', () => {
  it('keeps the invariants after every step', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const events: AccountEvent[] = [];
        const accepted: AccountCommand[] = [];
        let state = initialState;
        steps.forEach((s, index) => {
          // Time moves on a minute a step, so some holds outlive their expiry.
          const at = T0 + index * 60_000;
          const command =
            s.kind === 'replay'
              ? accepted[s.pick % Math.max(accepted.length, 1)]
              : commandFor(s, at);
          if (!command) return;
          const before = state;
          let recorded: AccountEvent[];
          try {
            recorded = decide(command, state);
          } catch (error) {
            // A refusal is one of the domain's own, and a replay of what was accepted never is.
            expect(REFUSALS.some((refusal) => error instanceof refusal)).toBe(true);
            expect(s.kind).not.toBe('replay');
            return;
          }
          if (s.kind === 'replay') expect(recorded).toEqual([]);
          else accepted.push(command);
          events.push(...recorded);
          state = recorded.reduce(evolve, state);

          expect(state).toEqual(fold(events));
          if (!state.opened) return;
          const { posted, pending } = sums(events);
          expect({ posted: state.posted, pending: state.pending }).toEqual({ posted, pending });
          expect(pending).toBeGreaterThanOrEqual(0);
          for (const event of recorded) {
            if (event.type === 'FundsHeld') {
              // A hold never takes the account beyond its overdraft.
              expect(event.data.amount).toBeLessThanOrEqual(available(before));
              expect(available(state)).toBeGreaterThanOrEqual(0);
            }
            if (event.type === 'HoldRefused') {
              expect(event.data.amount).toBeGreaterThan(available(before));
              expect(event.data.available).toBe(available(before));
            }
          }
          // Only lowering the overdraft can take available below zero; a hold never does.
          if (!recorded.some((event) => event.type === 'OverdraftLimitSet')) {
            expect(available(state)).toBeGreaterThanOrEqual(Math.min(available(before), 0));
          }
        });
        // Every hold was decided once and settled at most once.
        const perHold = new Map<string, string[]>();
        for (const event of events) {
          if ('holdId' in event.data) {
            perHold.set(event.data.holdId, [...(perHold.get(event.data.holdId) ?? []), event.type]);
          }
        }
        for (const types of perHold.values()) {
          expect(['FundsHeld', 'HoldRefused']).toContain(types[0]);
          expect(types.length).toBeLessThanOrEqual(types[0] === 'FundsHeld' ? 2 : 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
