import { randomUUID } from 'node:crypto';
import type { EventStore } from '../event-store/event-store.port';
import { accountStreamName } from './account-id';
import { ACCOUNT_SCHEMA_VERSION, AccountStreams } from './account-streams';
import type { Deposit, PlaceHold } from './account.commands';
import { availableBalance } from './account.state';
import { CryptoIds } from '../shared/ids';
import { MathRandom } from '../shared/random';

/** Two connections to one store: two service instances writing the same accounts. */
export interface TwoInstancesHarness {
  open(): Promise<{ first: EventStore; second: EventStore; dispose(): Promise<void> }>;
}

const AT = '2030-01-01T00:00:00.000Z';
const EXPIRES = '2030-01-01T00:15:00.000Z';
const CONTEXT = { correlationId: 'test', causationId: 'test', actor: 'test' };

/**
 * The write path's promises on any event store: they rest on the store's expected-revision
 * check alone, so each adapter runs them. Every test uses an owner of its own, so a harness may
 * hand back a store shared with other tests (a server started once per suite).
 */
export function describeAccountStreamsContract(name: string, harness: TwoInstancesHarness): void {
  describe(`AccountStreams on ${name}`, () => {
    let opened: Awaited<ReturnType<TwoInstancesHarness['open']>>;
    let instanceA: AccountStreams;
    let instanceB: AccountStreams;
    let owner: string;

    beforeEach(async () => {
      opened = await harness.open();
      instanceA = new AccountStreams(opened.first, new MathRandom(), new CryptoIds());
      instanceB = new AccountStreams(opened.second, new MathRandom(), new CryptoIds());
      owner = `owner-${randomUUID()}`;
    });

    afterEach(async () => {
      await opened.dispose();
    });

    const deposit = (amount: number): Deposit => ({
      type: 'Deposit',
      owner,
      currency: 'KES',
      depositId: 'dep-1',
      amount,
      reference: 'funding',
      at: AT,
    });
    const hold = (holdId: string, amount: number): PlaceHold => ({
      type: 'PlaceHold',
      owner,
      currency: 'KES',
      holdId,
      amount,
      expiresAt: EXPIRES,
      at: AT,
    });
    const typesInStream = async () =>
      (await opened.first.readStream(accountStreamName(owner, 'KES'))).map((event) => event.type);

    it('given 50 concurrent holds across two instances and funds for exactly 17, then exactly 17 are held and 33 refused', async () => {
      await instanceA.handle(deposit(17 * 100), CONTEXT);

      const writes = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          (index % 2 === 0 ? instanceA : instanceB).handle(hold(`tx-${index}`, 100), CONTEXT),
        ),
      );

      const outcomes = writes.map((write) => write.events.map((event) => event.type).join());
      expect(outcomes.filter((outcome) => outcome === 'FundsHeld')).toHaveLength(17);
      expect(outcomes.filter((outcome) => outcome === 'HoldRefused')).toHaveLength(33);
      // Every refusal saw the balance the other holds, from either instance, had used up.
      for (const write of writes) {
        const [event] = write.events;
        if (event.type === 'HoldRefused') expect(event.data.available).toBe(0);
      }
      const { state } = await instanceB.load(owner, 'KES');
      if (!state.opened) throw new Error('the account was not opened');
      expect({
        posted: state.posted,
        pending: state.pending,
        available: availableBalance(state),
      }).toEqual({ posted: 1700, pending: 1700, available: 0 });
      expect(await typesInStream()).toHaveLength(2 + 50);
    });

    it('given another writer holds between our read and our append, then our hold is decided again on the fresh balance', async () => {
      await instanceA.handle(deposit(100), CONTEXT);
      const append = opened.first.appendToStream.bind(opened.first);
      jest
        .spyOn(opened.first, 'appendToStream')
        .mockImplementationOnce(async (streamName, events, options) => {
          await opened.second.appendToStream(
            streamName,
            [
              {
                id: randomUUID(),
                type: 'FundsHeld',
                data: { holdId: 'rival', amount: 100, expiresAt: EXPIRES, at: AT },
                metadata: { ...CONTEXT, actor: 'rival', schemaVersion: ACCOUNT_SCHEMA_VERSION },
              },
            ],
            { expectedRevision: 'stream_exists' },
          );
          return append(streamName, events, options);
        });

      const write = await instanceA.handle(hold('tx-1', 100), CONTEXT);

      expect(write.events).toEqual([
        {
          type: 'HoldRefused',
          data: { holdId: 'tx-1', amount: 100, reason: 'insufficient_funds', available: 0, at: AT },
        },
      ]);
      expect(await typesInStream()).toEqual([
        'AccountOpened',
        'FundsDeposited',
        'FundsHeld',
        'HoldRefused',
      ]);
    });
  });
}
