import fc from 'fast-check';
import type { AccountCommand } from './account.commands';
import { decide } from './account.decider';
import {
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
  HoldNotSettledError,
} from './account.errors';
import type { AccountEvent } from './account.events';
import { availableBalance, evolve, fold, initialState } from './account.state';
import type { AccountState, HoldStatus } from './account.state';

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
  | { kind: 'reverse'; id: number; to: 'posted' | 'voided' }
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
    amount: fc.integer({ min: 1, max: 400 }),
  }),
  fc.record({ kind: fc.constant('post' as const), id: fc.nat(7) }),
  fc.record({ kind: fc.constant('void' as const), id: fc.nat(7), expired: fc.boolean() }),
  fc.record({
    kind: fc.constant('reverse' as const),
    id: fc.nat(7),
    to: fc.constantFrom('posted' as const, 'voided' as const),
  }),
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
    case 'reverse':
      return {
        type: 'ReverseHold',
        ...base,
        holdId: `tx-${s.id}`,
        to: s.to,
        reason: 'resolved_by_support',
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
    if (event.type === 'PostedHoldRefunded') posted += event.data.amount;
    if (event.type === 'VoidedHoldPosted') posted -= event.data.amount;
  }
  return { posted, pending };
}

/**
 * Where each event may take a hold, from where: decided once (held or refused), settled once,
 * then only reversed, each reversal from the other settled state.
 */
const MOVES: Record<string, { from: HoldStatus | 'new'; to: HoldStatus }> = {
  FundsHeld: { from: 'new', to: 'held' },
  HoldRefused: { from: 'new', to: 'refused' },
  HoldPosted: { from: 'held', to: 'posted' },
  HoldVoided: { from: 'held', to: 'voided' },
  PostedHoldRefunded: { from: 'posted', to: 'voided' },
  VoidedHoldPosted: { from: 'voided', to: 'posted' },
};

/** Each hold's status as its events alone say, checking every move was allowed. */
function holdStatuses(events: readonly AccountEvent[]): Map<string, HoldStatus> {
  const statuses = new Map<string, HoldStatus>();
  for (const event of events) {
    if (!('holdId' in event.data)) continue;
    const move = MOVES[event.type];
    expect(statuses.get(event.data.holdId) ?? 'new').toBe(move.from);
    statuses.set(event.data.holdId, move.to);
  }
  return statuses;
}

const reversals = (events: readonly AccountEvent[], holdId: string) =>
  events.filter(
    (event) =>
      (event.type === 'PostedHoldRefunded' || event.type === 'VoidedHoldPosted') &&
      event.data.holdId === holdId,
  ).length;

/** What a state says as plain data, so states built apart compare by content. */
function observed(state: AccountState) {
  if (!state.opened) return state;
  const { deposits, overdraftChanges, holds, ...balances } = state;
  return {
    ...balances,
    deposits: Object.fromEntries(deposits.entries()),
    overdraftChanges: Object.fromEntries(overdraftChanges.entries()),
    holds: Object.fromEntries(holds.entries()),
  };
}

const available = (state: AccountState) => (state.opened ? availableBalance(state) : 0);

const REFUSALS = [
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
  HoldNotSettledError,
];

describe('account decider, over random sequences of deposits, holds, posts, voids, reversals and replays', () => {
  it('keeps the invariants after every step', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: 'max' }), (steps) => {
        const events: AccountEvent[] = [];
        /** Each accepted command, with how many reversals its hold had when it was accepted. */
        const accepted: { command: AccountCommand; reversalsThen: number }[] = [];
        let state = initialState;
        steps.forEach((s, index) => {
          // Time moves on a minute a step, so some holds outlive their expiry.
          const at = T0 + index * 60_000;
          const replayed =
            s.kind === 'replay' ? accepted[s.pick % Math.max(accepted.length, 1)] : undefined;
          const command = s.kind === 'replay' ? replayed?.command : commandFor(s, at);
          if (!command) return;
          // A reversal since moves the hold on: a replay of what came before may then be refused
          // or reverse it again (a reversal is idempotent by its target, not by an id).
          const strictReplay =
            replayed !== undefined &&
            (!('holdId' in command) ||
              reversals(events, command.holdId) === replayed.reversalsThen);
          const before = state;
          let recorded: AccountEvent[];
          try {
            recorded = decide(command, state);
          } catch (error) {
            // A refusal is one of the domain's own, and a replay of what was accepted never is.
            expect(REFUSALS.some((refusal) => error instanceof refusal)).toBe(true);
            expect(strictReplay).toBe(false);
            return;
          }
          if (strictReplay) expect(recorded).toEqual([]);
          events.push(...recorded);
          if (s.kind !== 'replay') {
            const reversalsThen = 'holdId' in command ? reversals(events, command.holdId) : 0;
            accepted.push({ command, reversalsThen });
          }
          state = recorded.reduce(evolve, state);

          expect(observed(state)).toEqual(observed(fold(events)));
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
          // Only lowering the overdraft, or taking a voided hold whose money already left, can
          // take available below zero; a hold never does.
          if (
            !recorded.some(
              (event) => event.type === 'OverdraftLimitSet' || event.type === 'VoidedHoldPosted',
            )
          ) {
            expect(available(state)).toBeGreaterThanOrEqual(Math.min(available(before), 0));
          }
        });
        // Every hold moved only as MOVES allows, and the state's status is the events' own.
        const statuses = holdStatuses(events);
        if (!state.opened) return;
        expect(
          Object.fromEntries(state.holds.entries().map(([id, { status }]) => [id, status])),
        ).toEqual(Object.fromEntries(statuses));
        // Settling what is still held leaves every placed hold posted or voided.
        const settled = [...statuses]
          .filter(([, status]) => status === 'held')
          .flatMap(([holdId]) =>
            decide({ type: 'PostHold', ...ACCOUNT, holdId, at: iso(T0) }, state),
          );
        for (const status of holdStatuses([...events, ...settled]).values()) {
          expect(['posted', 'voided', 'refused']).toContain(status);
        }
      }),
      { numRuns: 300 },
    );
  });
});
