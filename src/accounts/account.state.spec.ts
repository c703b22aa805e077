import fc from 'fast-check';
import type { AccountEvent } from './account.events';
import { evolve, fold, IdIndex, initialState } from './account.state';
import type { AccountState } from './account.state';

const AT = '2026-12-01T10:00:00.000Z';
const opened: AccountEvent = {
  type: 'AccountOpened',
  data: { owner: 'alice', currency: 'KES', openedAt: AT },
};

/** What a state says, as plain data: what any reader of it can observe. */
function observed(state: AccountState) {
  if (!state.opened) return state;
  const { deposits, overdraftChanges, holds, ...balances } = state;
  const sorted = <V>(index: IdIndex<V>) =>
    Object.fromEntries(index.entries().sort(([a], [b]) => a.localeCompare(b)));
  return {
    ...balances,
    deposits: sorted(deposits),
    overdraftChanges: sorted(overdraftChanges),
    holds: sorted(holds),
  };
}

describe('IdIndex', () => {
  it('an index never sees what was set after it, nor on another branch', () => {
    const empty = IdIndex.empty<string>();
    const a = empty.with('x', 'a');
    const b = a.with('x', 'b').with('y', 'b');
    // A branch from an older version: its own values, the others unchanged.
    const c = a.with('y', 'c');
    const d = b.with('x', 'd');

    expect(empty.get('x')).toBeUndefined();
    expect(empty.entries()).toEqual([]);
    expect(a.entries()).toEqual([['x', 'a']]);
    expect(b.entries()).toEqual([
      ['x', 'b'],
      ['y', 'b'],
    ]);
    expect(c.entries()).toEqual([
      ['x', 'a'],
      ['y', 'c'],
    ]);
    expect(d.entries()).toEqual([
      ['x', 'd'],
      ['y', 'b'],
    ]);
    expect(c.with('x', 'e').get('x')).toBe('e');
    expect([a.get('x'), b.get('x'), c.get('x'), d.get('x')]).toEqual(['a', 'b', 'a', 'd']);
    expect(a.get('y')).toBeUndefined();
  });

  it('over random trees of writes, every index reads what a copied record would', () => {
    const write = fc.record({
      from: fc.nat(),
      id: fc.constantFrom('p', 'q', 'r'),
      value: fc.nat(9),
    });
    fc.assert(
      fc.property(fc.array(write, { maxLength: 40 }), (writes) => {
        const indexes = [IdIndex.empty<number>()];
        const records: Record<string, number>[] = [{}];
        for (const { from, id, value } of writes) {
          const parent = from % indexes.length;
          indexes.push(indexes[parent].with(id, value));
          records.push({ ...records[parent], [id]: value });
          indexes.forEach((index, at) => {
            expect(index.entries().sort()).toEqual(Object.entries(records[at]).sort());
            for (const key of ['p', 'q', 'r']) expect(index.get(key)).toBe(records[at][key]);
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('evolve', () => {
  it('never changes a state it was given: every earlier state still reads as it did', () => {
    const events: AccountEvent[] = [opened];
    for (let n = 0; n < 30; n++) {
      events.push(
        {
          type: 'FundsDeposited',
          data: { depositId: `dep-${n}`, amount: 10, reference: 'r', at: AT },
        },
        { type: 'OverdraftLimitSet', data: { changeId: `od-${n}`, limit: n, at: AT } },
        { type: 'FundsHeld', data: { holdId: `tx-${n}`, amount: 5, expiresAt: AT, at: AT } },
        n % 2 === 0
          ? { type: 'HoldPosted', data: { holdId: `tx-${n}`, amount: 5, at: AT } }
          : {
              type: 'HoldVoided',
              data: { holdId: `tx-${n}`, amount: 5, reason: 'transaction_failed', at: AT },
            },
      );
    }
    const states: AccountState[] = [initialState];
    const seen: unknown[] = [observed(initialState)];
    for (const event of events) {
      const state = evolve(states[states.length - 1], event);
      states.push(state);
      seen.push(observed(state));
      // Branch from an older state too, as a retry deciding from an earlier load would.
      evolve(states[Math.floor(states.length / 2)], {
        type: 'FundsHeld',
        data: { holdId: 'tx-0', amount: 1, expiresAt: AT, at: AT },
      });
    }
    states.forEach((state, at) => expect(observed(state)).toEqual(seen[at]));
    expect(observed(states[states.length - 1])).toEqual(observed(fold(events)));
  });
});
