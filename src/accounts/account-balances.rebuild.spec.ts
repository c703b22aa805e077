import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deposited, opened, recordedAccountEvents } from '../../test/support/account-history';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { rebuildProjection } from '../projections/projection-rebuild';
import { SqliteAccountReadModel } from '../read-model/sqlite/sqlite-account-read-model';
import { SystemClock } from '../shared/clock';
import { AccountBalancesProjection, projectAccountRows } from './account-balances.projection';
import { accountsToLoad, rebuildableAccountBalances } from './account-balances.rebuild';
import { AccountStreams } from './account-streams';
import type { AccountReadModel } from './account-read-model.port';
import { CryptoIds } from '../shared/ids';
import { MathRandom } from '../shared/random';

describe('accountsToLoad', () => {
  const alice = recordedAccountEvents('alice', 'KES', [opened('alice', 'KES'), deposited('d', 1)]);
  const later = recordedAccountEvents('bob', 'KES', [deposited('e', 1)], { firstRevision: 4n });

  it('reads no account the page itself opens, nor one in the cache; reads the others once', () => {
    expect(accountsToLoad(alice, new Map())).toEqual([]);
    expect(accountsToLoad([...later, ...later], new Map())).toEqual([later[0].streamName]);
    const cached = projectAccountRows(alice, new Map());
    const aliceLater = recordedAccountEvents('alice', 'KES', [deposited('f', 1)], {
      firstRevision: 2n,
    });
    expect(accountsToLoad(aliceLater, cached)).toEqual([]);
    expect(accountsToLoad(aliceLater, new Map())).toEqual([aliceLater[0].streamName]);
  });
});

describe('rebuilding the account balances', () => {
  let folder: string;
  let eventStore: SqliteEventStore;
  const models: AccountReadModel[] = [];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'account-rebuild-'));
    eventStore = new SqliteEventStore({
      path: join(folder, 'events.sqlite'),
      clock: new SystemClock(),
    });
    const streams = new AccountStreams(eventStore, new MathRandom(), new CryptoIds());
    const context = { correlationId: 'c', causationId: 'c', actor: 'test' };
    const at = '2026-12-05T04:00:00.000Z';
    for (let i = 0; i < 12; i++) {
      const owner = `owner-${i % 4}`;
      await streams.handle(
        {
          type: 'Deposit',
          owner,
          currency: 'KES',
          depositId: `d-${i}`,
          amount: i + 1,
          reference: 'r',
          at,
        },
        context,
      );
      await streams.handle(
        {
          type: 'PlaceHold',
          owner,
          currency: 'KES',
          holdId: `h-${i}`,
          amount: 1,
          expiresAt: at,
          at,
        },
        context,
      );
    }
  });

  afterAll(async () => {
    for (const model of models) await model.close();
    await eventStore.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function rowsOf(model: AccountReadModel) {
    const { items } = await model.scanBalances({ limit: 100 });
    const entries = await Promise.all(items.map((b) => model.listEntries({ ...b, limit: 100 })));
    return { items, entries, ledger: await model.currencyBalances() };
  }

  it('with a tiny cache and tiny pages gives the rows the live projection gives', async () => {
    const live = new SqliteAccountReadModel({ path: join(folder, 'live.sqlite') });
    const rebuilt = new SqliteAccountReadModel({ path: join(folder, 'rebuilt.sqlite') });
    models.push(live, rebuilt);
    const events = await eventStore.readAll({});
    await new AccountBalancesProjection(live).apply(events, events[events.length - 1].position);

    const result = await rebuildProjection(eventStore, rebuildableAccountBalances(rebuilt), {
      batchEvents: 5,
      cachedRows: 2,
    });

    expect(result.checkpoint).toBe(await eventStore.headPosition());
    const expected = await rowsOf(live);
    expect(expected.items).toHaveLength(4);
    expect(await rowsOf(rebuilt)).toEqual(expected);
  });
});
