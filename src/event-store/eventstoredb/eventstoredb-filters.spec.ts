import fc from 'fast-check';
import type { AllFilter } from '../event-store.port';
import type { Filter } from './eventstoredb-client';
import {
  exactTypesRegex,
  isSystemEvent,
  keepsInAll,
  keepsNothing,
  serverFilter,
} from './eventstoredb-filters';

/** What the server lets through for a filter, as far as this suite needs to model it. */
function serverAdmits(filter: Filter, streamName: string, type: string): boolean {
  const subject = filter.filterOn === 'streamName' ? streamName : type;
  if ('prefixes' in filter) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return new RegExp(filter.regex).test(subject);
}

const name = fc.oneof(
  fc.constantFrom('order-1', 'ORDER-2', 'payment-1', '$ce-order', '$stats-1', 'order-$x'),
  fc.string({ maxLength: 12 }),
);
const type = fc.oneof(
  fc.constantFrom('Paid', 'Requested', '$>', '$metadata', 'Pa.d', 'a|b', '(x)', 'Paid\n'),
  fc.string({ maxLength: 12 }),
);
const filter: fc.Arbitrary<AllFilter | undefined> = fc.option(
  fc.record(
    {
      streamNamePrefixes: fc.array(fc.oneof(name, fc.constantFrom('order-', '')), { maxLength: 3 }),
      eventTypes: fc.array(type, { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

describe('EventStoreDB $all filters', () => {
  describe('isSystemEvent', () => {
    it("is an event in a `$` stream or of a `$` type: the server's own", () => {
      expect(isSystemEvent('$ce-order', 'Paid')).toBe(true);
      expect(isSystemEvent('$$order-1', '$metadata')).toBe(true);
      expect(isSystemEvent('order-1', '$>')).toBe(true);
      expect(isSystemEvent('order-1', 'Paid')).toBe(false);
      expect(isSystemEvent('order-$1', 'Pa$d')).toBe(false);
    });
  });

  describe('keepsInAll', () => {
    it('keeps every event but the system ones when there is no filter', () => {
      expect(keepsInAll(undefined, 'order-1', 'Paid')).toBe(true);
      expect(keepsInAll({}, 'order-1', 'Paid')).toBe(true);
      expect(keepsInAll(undefined, '$stats-1', '$statsCollected')).toBe(false);
    });

    it('keeps streams starting with one of the prefixes, case-sensitively', () => {
      const orders = { streamNamePrefixes: ['order-', 'payment-'] };

      expect(keepsInAll(orders, 'order-1', 'X')).toBe(true);
      expect(keepsInAll(orders, 'payment-1', 'X')).toBe(true);
      expect(keepsInAll(orders, 'ORDER-2', 'X')).toBe(false);
      expect(keepsInAll(orders, 'not-order-3', 'X')).toBe(false);
    });

    it('keeps events of the given types, exactly', () => {
      const paid = { eventTypes: ['Paid', 'Refunded'] };

      expect(keepsInAll(paid, 's', 'Paid')).toBe(true);
      expect(keepsInAll(paid, 's', 'Refunded')).toBe(true);
      expect(keepsInAll(paid, 's', 'Paid2')).toBe(false);
      expect(keepsInAll(paid, 's', 'paid')).toBe(false);
    });

    it('keeps only events matching both prefix and type', () => {
      const both = { streamNamePrefixes: ['order-'], eventTypes: ['Paid'] };

      expect(keepsInAll(both, 'order-1', 'Paid')).toBe(true);
      expect(keepsInAll(both, 'order-1', 'Requested')).toBe(false);
      expect(keepsInAll(both, 'payment-1', 'Paid')).toBe(false);
    });

    it('keeps nothing for an empty list, and never a system event, whatever the filter', () => {
      expect(keepsInAll({ streamNamePrefixes: [] }, 'order-1', 'Paid')).toBe(false);
      expect(keepsInAll({ eventTypes: [] }, 'order-1', 'Paid')).toBe(false);
      expect(keepsInAll({ streamNamePrefixes: ['$ce-'] }, '$ce-order', 'Paid')).toBe(false);
      expect(keepsInAll({ eventTypes: ['$>'] }, 'order-1', '$>')).toBe(false);
    });
  });

  describe('keepsNothing', () => {
    it('is true exactly when a list is present and empty', () => {
      expect(keepsNothing(undefined)).toBe(false);
      expect(keepsNothing({})).toBe(false);
      expect(keepsNothing({ streamNamePrefixes: ['a'], eventTypes: ['b'] })).toBe(false);
      expect(keepsNothing({ streamNamePrefixes: [] })).toBe(true);
      expect(keepsNothing({ eventTypes: [] })).toBe(true);
    });

    it('agrees with keepsInAll: such a filter keeps no event', () => {
      fc.assert(
        fc.property(filter, name, type, (f, streamName, eventType) => {
          if (keepsNothing(f)) expect(keepsInAll(f, streamName, eventType)).toBe(false);
        }),
      );
    });
  });

  describe('serverFilter', () => {
    it('filters on stream prefixes when there are any', () => {
      expect(serverFilter({ streamNamePrefixes: ['order-'], eventTypes: ['Paid'] })).toMatchObject({
        filterOn: 'streamName',
        prefixes: ['order-'],
      });
    });

    it('filters on exact event types when there are no prefixes', () => {
      expect(serverFilter({ eventTypes: ['Paid', 'Refunded'] })).toMatchObject({
        filterOn: 'eventType',
        regex: '^(?:Paid|Refunded)$',
      });
      expect(serverFilter({ streamNamePrefixes: [], eventTypes: ['Paid'] })).toMatchObject({
        filterOn: 'eventType',
        regex: '^(?:Paid)$',
      });
    });

    it('keeps out system events when there is nothing else to filter on', () => {
      for (const f of [undefined, {}, { streamNamePrefixes: [], eventTypes: [] }]) {
        const onServer = serverFilter(f);
        expect(onServer.filterOn).toBe('eventType');
        expect(serverAdmits(onServer, 'order-1', 'Paid')).toBe(true);
        expect(serverAdmits(onServer, 'order-1', '')).toBe(true);
        expect(serverAdmits(onServer, 'order-1', '$>')).toBe(false);
      }
    });

    it('lets through at least every event the port keeps', () => {
      fc.assert(
        fc.property(filter, name, type, (f, streamName, eventType) => {
          if (keepsInAll(f, streamName, eventType)) {
            expect(serverAdmits(serverFilter(f), streamName, eventType)).toBe(true);
          }
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('exactTypesRegex', () => {
    it('matches exactly the listed types, however many regex characters they hold', () => {
      fc.assert(
        fc.property(
          fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { minLength: 1, maxLength: 4 }),
          fc.string({ unit: 'binary', maxLength: 8 }),
          (types, candidate) => {
            const regex = new RegExp(exactTypesRegex(types));
            for (const listed of types) expect(regex.test(listed)).toBe(true);
            expect(regex.test(candidate)).toBe(types.includes(candidate));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('escapes with a backslash only before punctuation, which .NET also reads literally', () => {
      expect(exactTypesRegex(['a.b', 'c|d', '(e)', 'f$', '^g', 'h-i j#'])).toBe(
        '^(?:a\\.b|c\\|d|\\(e\\)|f\\$|\\^g|h\\-i\\ j\\#)$',
      );
    });
  });
});
