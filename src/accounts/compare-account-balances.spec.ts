import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SqliteAccountReadModel } from '../read-model/sqlite/sqlite-account-read-model';
import { SystemClock } from '../shared/clock';
import { deposited, opened, recordedAccountEvents } from '../../test/support/account-history';
import { AccountBalancesProjection, projectAccountRows } from './account-balances.projection';
import { accountStreamName } from './account-id';
import { AccountStreams } from './account-streams';
import { compareAccountBalances } from './compare-account-balances';
import { CryptoIds } from '../shared/ids';
import { MathRandom } from '../shared/random';

const CONTEXT = { correlationId: 'c', causationId: 'c', actor: 'test' };
const AT = '2026-12-05T04:00:00.000Z';

describe('compareAccountBalances', () => {
  let folder: string;
  let eventStore: SqliteEventStore;
  let readModel: SqliteAccountReadModel;
  let streams: AccountStreams;

  const deposit = (owner: string, depositId: string, amount: number) =>
    streams.handle(
      { type: 'Deposit', owner, currency: 'KES', depositId, amount, reference: 'r', at: AT },
      CONTEXT,
    );

  /** Applies every event so far, as the hosted projection would. */
  async function project(): Promise<void> {
    const events = await eventStore.readAll({});
    await new AccountBalancesProjection(readModel).apply(
      events,
      events[events.length - 1].position,
    );
  }

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'compare-accounts-'));
    eventStore = new SqliteEventStore({
      path: join(folder, 'events.sqlite'),
      clock: new SystemClock(),
    });
    readModel = new SqliteAccountReadModel({ path: join(folder, 'accounts.sqlite') });
    streams = new AccountStreams(eventStore, new MathRandom(), new CryptoIds());
    await deposit('alice', 'd-1', 500);
    await streams.handle(
      {
        type: 'PlaceHold',
        owner: 'alice',
        currency: 'KES',
        holdId: 'h-1',
        amount: 200,
        expiresAt: AT,
        at: AT,
      },
      CONTEXT,
    );
    await deposit('bob', 'd-2', 70);
  });

  afterEach(async () => {
    await readModel.close();
    await eventStore.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('finds no difference when the read model is the fold of the streams', async () => {
    await project();
    const comparison = await compareAccountBalances(eventStore, readModel);
    expect(comparison).toEqual({
      checkpoint: await eventStore.headPosition(),
      accounts: 2,
      differences: [],
    });
  });

  it('does not count events after the checkpoint (projection lag) as differences', async () => {
    await project();
    await deposit('alice', 'd-3', 1);
    await deposit('carol', 'd-4', 1);
    expect((await compareAccountBalances(eventStore, readModel)).differences).toEqual([]);
  });

  it('reports a balance that differs and an account missing from the read model', async () => {
    await project();
    const raw = new Database(join(folder, 'accounts.sqlite'));
    raw
      .prepare('UPDATE account_balances SET pending = 0 WHERE stream_name = ?')
      .run(accountStreamName('alice', 'KES'));
    raw
      .prepare('DELETE FROM account_balances WHERE stream_name = ?')
      .run(accountStreamName('bob', 'KES'));
    raw.close();

    const { differences } = await compareAccountBalances(eventStore, readModel);
    expect(differences).toEqual([
      {
        streamName: accountStreamName('alice', 'KES'),
        fromEvents: expect.objectContaining({ posted: 500, pending: 200, available: 300 }),
        fromReadModel: expect.objectContaining({ posted: 500, pending: 0, available: 300 }),
      },
      {
        streamName: accountStreamName('bob', 'KES'),
        fromEvents: expect.objectContaining({ owner: 'bob', posted: 70 }),
        fromReadModel: null,
      },
    ]);
  });

  it('reports a system leg that differs', async () => {
    await project();
    const raw = new Database(join(folder, 'accounts.sqlite'));
    raw.prepare('UPDATE account_balances SET clearing_pending = 0').run();
    raw.close();
    const { differences } = await compareAccountBalances(eventStore, readModel);
    expect(
      differences.map(({ fromEvents, fromReadModel }) => [
        fromEvents?.clearing,
        fromReadModel?.clearing,
      ]),
    ).toEqual([
      [
        { posted: 0, pending: 200 },
        { posted: 0, pending: 0 },
      ],
    ]);
  });

  it('reports a read-model row with no account in the events', async () => {
    await project();
    const ghost = recordedAccountEvents('ghost', 'KES', [
      opened('ghost', 'KES'),
      deposited('g', 9),
    ]);
    const rows = [...projectAccountRows(ghost, new Map()).values()];
    await readModel.commit({ rows, checkpoint: await eventStore.headPosition() });

    const { differences } = await compareAccountBalances(eventStore, readModel);
    expect(differences).toEqual([
      {
        streamName: accountStreamName('ghost', 'KES'),
        fromEvents: null,
        fromReadModel: expect.objectContaining({ owner: 'ghost', posted: 9 }),
      },
    ]);
  });
});
