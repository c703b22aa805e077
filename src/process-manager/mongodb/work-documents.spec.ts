import { ClaimedWork, WORK_KINDS, WorkItem } from '../work-queue.port';
import {
  claimableFilter,
  claimedVersionFilter,
  commitOperations,
  LEASED,
  PARKED,
  planWork,
  takeableLeaseFilter,
  toParkedWork,
  toWorkItem,
  UNLEASED_IN_ROTATION,
  WorkDocument,
} from './work-documents';

/**
 * The few query operators these filters use, evaluated on top-level fields as MongoDB does: a
 * missing field fails a comparison, `$exists` tells missing from present. It checks that each
 * filter says what the adapter means (boundaries, absent fields), not MongoDB itself.
 */
function matches(document: object, filter: object): boolean {
  const fields = document as Record<string, unknown>;
  return Object.entries(filter).every(([key, condition]: [string, unknown]) => {
    if (key === '$or') return (condition as object[]).some((clause) => matches(document, clause));
    const value = fields[key];
    const isOperators =
      typeof condition === 'object' &&
      condition !== null &&
      Object.keys(condition).every((name) => name.startsWith('$'));
    if (!isOperators) return value === condition;
    return Object.entries(condition).every(([operator, operand]: [string, unknown]) => {
      switch (operator) {
        case '$lte':
          return typeof value === 'number' && value <= (operand as number);
        case '$exists':
          return (value !== undefined) === operand;
        case '$in':
          return (operand as unknown[]).includes(value);
        default:
          throw new Error(`${operator} is not modelled here`);
      }
    });
  });
}

const T0 = 1_900_000_000_000;

function stored(overrides: Partial<WorkDocument> = {}): WorkDocument {
  return {
    transactionId: 'tx-1',
    kind: 'check',
    dueAt: T0,
    payloadJson: '{"check":1}',
    version: 7,
    ...overrides,
  };
}

describe('work documents', () => {
  describe('claimableFilter', () => {
    it('takes work due at now or earlier, not later', () => {
      expect(matches(stored({ dueAt: T0 - 1 }), claimableFilter(T0, WORK_KINDS))).toBe(true);
      expect(matches(stored({ dueAt: T0 }), claimableFilter(T0, WORK_KINDS))).toBe(true);
      expect(matches(stored({ dueAt: T0 + 1 }), claimableFilter(T0, WORK_KINDS))).toBe(false);
    });

    it('takes free work and work whose lease ended at or before now', () => {
      const leased = (leaseUntil: number) => stored({ leaseOwner: 'A', leaseUntil });

      expect(matches(stored(), claimableFilter(T0, WORK_KINDS))).toBe(true);
      expect(matches(leased(T0), claimableFilter(T0, WORK_KINDS))).toBe(true);
      expect(matches(leased(T0 - 1), claimableFilter(T0, WORK_KINDS))).toBe(true);
      expect(matches(leased(T0 + 1), claimableFilter(T0, WORK_KINDS))).toBe(false);
    });

    it('takes only the kinds asked for', () => {
      expect(matches(stored({ kind: 'check' }), claimableFilter(T0, ['check']))).toBe(true);
      expect(matches(stored({ kind: 'submit' }), claimableFilter(T0, ['check']))).toBe(false);
      expect(matches(stored({ kind: 'submit' }), claimableFilter(T0, ['submit', 'settle']))).toBe(
        true,
      );
    });

    it('never takes parked work, however late', () => {
      const parked = stored({ parkedAt: T0, parkedReason: 'failed' });

      expect(matches(parked, claimableFilter(T0 + 1_000_000, WORK_KINDS))).toBe(false);
    });
  });

  it('tells free, leased and parked work apart for nextDueAt and parkedWork', () => {
    const free = stored();
    const leased = stored({ leaseOwner: 'A', leaseUntil: T0 + 1 });
    const parked = stored({ parkedAt: T0, parkedReason: 'failed' });

    expect([free, leased, parked].map((item) => matches(item, UNLEASED_IN_ROTATION))).toEqual([
      true,
      false,
      false,
    ]);
    expect([free, leased, parked].map((item) => matches(item, LEASED))).toEqual([
      false,
      true,
      false,
    ]);
    expect([free, leased, parked].map((item) => matches(item, PARKED))).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('finds a claimed item by its version only, whoever holds it now', () => {
    const claim: ClaimedWork = {
      ...toWorkItem(stored()),
      version: 7,
      leaseOwner: 'A',
      leaseUntil: T0 + 30_000,
    };

    expect(matches(stored({ leaseOwner: 'A', leaseUntil: T0 }), claimedVersionFilter(claim))).toBe(
      true,
    );
    expect(matches(stored({ version: 8 }), claimedVersionFilter(claim))).toBe(false);
    expect(matches(stored({ kind: 'deadline' }), claimedVersionFilter(claim))).toBe(false);
  });

  describe('takeableLeaseFilter', () => {
    const lease = (owner: string, until: number) => ({ _id: 'planner', owner, until });

    it("takes an expired lease, renews one's own, and leaves another owner's valid lease", () => {
      expect(matches(lease('B', T0), takeableLeaseFilter('planner', 'A', T0))).toBe(true);
      expect(matches(lease('A', T0 + 1), takeableLeaseFilter('planner', 'A', T0))).toBe(true);
      expect(matches(lease('B', T0 + 1), takeableLeaseFilter('planner', 'A', T0))).toBe(false);
    });

    it('keeps leases of different names apart', () => {
      expect(matches(lease('A', T0 - 1), takeableLeaseFilter('other-job', 'A', T0))).toBe(false);
    });
  });

  describe('planWork', () => {
    it('stores the payload as JSON text, which comes back as JSON gives it', () => {
      const item: WorkItem = {
        transactionId: 'tx-1',
        kind: 'submit',
        dueAt: T0,
        payload: {
          attempt: 2,
          note: 'Zoë 💸',
          nested: { list: [1, 'two', null] },
          gone: undefined,
        },
      };

      const planned = planWork(item);

      expect(planned).toEqual({
        transactionId: 'tx-1',
        kind: 'submit',
        dueAt: T0,
        payloadJson: JSON.stringify(item.payload),
      });
      expect(toWorkItem({ ...planned, version: 1 })).toEqual({
        ...item,
        payload: { attempt: 2, note: 'Zoë 💸', nested: { list: [1, 'two', null] } },
      });
    });

    it('rejects a dueAt that is not whole epoch milliseconds, and a payload JSON cannot hold', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;

      expect(() =>
        planWork({ transactionId: 'tx-1', kind: 'check', dueAt: T0 + 0.5, payload: {} }),
      ).toThrow(RangeError);
      expect(() =>
        planWork({ transactionId: 'tx-1', kind: 'check', dueAt: T0, payload: cyclic }),
      ).toThrow(TypeError);
    });
  });

  describe('commitOperations', () => {
    it('cancels first, then upserts each plan as a new item: next version, no lease, not parked', () => {
      const planned = [
        planWork({ transactionId: 'tx-1', kind: 'check', dueAt: T0, payload: { check: 2 } }),
        planWork({ transactionId: 'tx-2', kind: 'deadline', dueAt: T0 + 5, payload: {} }),
      ];

      const operations = commitOperations(
        [{ transactionId: 'tx-1', kinds: ['check', 'notify'] }],
        planned,
        41,
      );

      expect(operations).toEqual([
        { deleteMany: { filter: { transactionId: 'tx-1', kind: { $in: ['check', 'notify'] } } } },
        {
          updateOne: {
            filter: { transactionId: 'tx-1', kind: 'check' },
            update: {
              $set: { dueAt: T0, payloadJson: '{"check":2}', version: 41 },
              $unset: { leaseOwner: '', leaseUntil: '', parkedAt: '', parkedReason: '' },
            },
            upsert: true,
          },
        },
        {
          updateOne: {
            filter: { transactionId: 'tx-2', kind: 'deadline' },
            update: {
              $set: { dueAt: T0 + 5, payloadJson: '{}', version: 42 },
              $unset: { leaseOwner: '', leaseUntil: '', parkedAt: '', parkedReason: '' },
            },
            upsert: true,
          },
        },
      ]);
    });

    it('cancels only the given kinds of the given transaction', () => {
      const [cancel] = commitOperations([{ transactionId: 'tx-1', kinds: ['check'] }], [], 1);
      const filter = 'deleteMany' in cancel ? cancel.deleteMany.filter : {};

      expect(matches(stored(), filter)).toBe(true);
      expect(matches(stored({ kind: 'deadline' }), filter)).toBe(false);
      expect(matches(stored({ transactionId: 'tx-2' }), filter)).toBe(false);
    });

    it('writes no work for an empty batch (the checkpoint still moves)', () => {
      expect(commitOperations([], [], 1)).toEqual([]);
    });
  });

  describe('toParkedWork', () => {
    it('lists a parked item with when and why it was parked', () => {
      expect(toParkedWork(stored({ parkedAt: T0 + 100, parkedReason: 'failed' }))).toEqual({
        transactionId: 'tx-1',
        kind: 'check',
        dueAt: T0,
        payload: { check: 1 },
        parkedAt: T0 + 100,
        reason: 'failed',
      });
    });

    it('refuses an item that is not parked', () => {
      expect(() => toParkedWork(stored())).toThrow(/not parked/);
    });
  });
});
