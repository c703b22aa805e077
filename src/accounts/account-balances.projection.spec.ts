import {
  capturedAfterVoid,
  deposited,
  held,
  opened,
  overdraftSet,
  posted,
  recordedAccountEvents,
  refunded,
  refused,
  voided,
} from '../../test/support/account-history';
import type { RecordedEvent } from '../event-store/event-store.port';
import { projectAccountEvent, projectAccountRows } from './account-balances.projection';
import { accountStreamName } from './account-id';
import type { AccountReadModelRow } from './account-read-model.port';
import { availableBalance, fold } from './account.state';
import { toAccountEvent } from './account-streams';

const STREAM = accountStreamName('alice', 'KES');

function foldRows(events: RecordedEvent[]): Map<string, AccountReadModelRow> {
  return projectAccountRows(events, new Map());
}

describe('account balances projection', () => {
  const history = recordedAccountEvents('alice', 'KES', [
    opened('alice', 'KES'),
    deposited('d-1', 1_000),
    overdraftSet('o-1', 200),
    held('h-1', 300),
    refused('h-2', 5_000, 900),
    posted('h-1', 300),
    held('h-3', 100),
    voided('h-3', 100),
    refunded('h-1', 300),
    capturedAfterVoid('h-3', 100),
  ]);

  it("given an account history, then one row that agrees with the domain's fold and one entry per money-moving event", () => {
    const rows = foldRows(history);
    const balance = rows.get(STREAM);
    const state = fold(history.map(toAccountEvent));
    if (!state.opened) throw new Error('the history opens the account');
    expect(balance).toEqual({
      kind: 'balance',
      balance: expect.objectContaining({
        streamName: STREAM,
        owner: 'alice',
        currency: 'KES',
        revision: 9n,
        posted: state.posted,
        pending: state.pending,
        available: availableBalance(state),
        overdraftLimit: state.overdraftLimit,
      }),
    });
    expect(state).toMatchObject({ posted: 900, pending: 0, overdraftLimit: 200 });
    const entries = [...rows.values()].flatMap((row) => (row.kind === 'entry' ? [row.entry] : []));
    expect(entries.map(({ kind, amount, balance }) => [kind, amount, balance])).toEqual([
      ['deposit', 1_000, 'posted'],
      ['hold', -300, 'pending'],
      ['hold_posted', -300, 'posted'],
      ['hold', -100, 'pending'],
      ['hold_voided', 100, 'pending'],
      ['posted_hold_refunded', 300, 'posted'],
      ['voided_hold_posted', -100, 'posted'],
    ]);
    expect(
      entries.map((entry) => [entry.postedAfter, entry.pendingAfter, entry.availableAfter]),
    ).toEqual([
      [1_000, 0, 1_000],
      [1_000, 300, 900],
      [700, 0, 900],
      [700, 100, 800],
      [700, 0, 900],
      [1_000, 0, 1_200],
      [900, 0, 1_100],
    ]);
    expect(entries[0]).toMatchObject({
      entryId: `${STREAM}:1`,
      transactionId: null,
      reference: 'ref d-1',
    });
    expect(entries[1]).toMatchObject({
      entryId: `${STREAM}:3`,
      transactionId: 'h-1',
      reference: null,
    });
  });

  it('a refusal, an opening and an overdraft change are no entries', () => {
    const rows = foldRows(history);
    const revisions = [...rows.values()].flatMap((row) =>
      row.kind === 'entry' ? [row.entry.revision] : [],
    );
    expect(revisions).not.toContain(0n);
    expect(revisions).not.toContain(2n);
    expect(revisions).not.toContain(4n);
  });

  it('the system legs are the legs of every event: deposits from funding, holds with clearing', () => {
    const balance = foldRows(history).get(STREAM);
    expect(balance?.kind === 'balance' && balance.balance).toMatchObject({
      funding: { posted: -1_000, pending: 0 },
      clearing: { posted: 100, pending: 0 },
    });
    const held300 = foldRows(history.slice(0, 4)).get(STREAM);
    expect(held300?.kind === 'balance' && held300.balance).toMatchObject({
      posted: 1_000,
      pending: 300,
      clearing: { posted: 0, pending: 300 },
    });
  });

  it('an event at or below the row revision changes nothing (re-delivery)', () => {
    const rows = foldRows(history.slice(0, 4));
    const row = rows.get(STREAM);
    if (row?.kind !== 'balance') throw new Error('no balance row');
    expect(projectAccountEvent(row.balance, history[3])).toBeNull();
    expect(projectAccountEvent(row.balance, history[1])).toBeNull();
    const again = projectAccountRows(history.slice(0, 4), new Map([[STREAM, row]]));
    expect(again.size).toBe(0);
  });

  it('folding in two batches gives the rows of one batch', () => {
    const whole = foldRows(history);
    const first = foldRows(history.slice(0, 5));
    const second = projectAccountRows(history.slice(5), first);
    expect(new Map([...first, ...second])).toEqual(whole);
  });

  it('ignores events of other streams', () => {
    const other: RecordedEvent = {
      ...history[1],
      streamName: 'transaction-x',
      type: 'TransactionRequested',
    };
    expect(foldRows([other]).size).toBe(0);
  });
});
