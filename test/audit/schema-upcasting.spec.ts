import { AccountBalancesProjection } from '../../src/accounts/account-balances.projection';
import { SqliteAccountReadModel } from '../../src/read-model/sqlite/sqlite-account-read-model';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStreamName } from '../../src/accounts/account-id';
import { ACCOUNT_SCHEMA_VERSION } from '../../src/accounts/account-streams';
import type { AccountEvent } from '../../src/accounts/account.events';
import type { EventData, RecordedEvent } from '../../src/event-store/event-store.port';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import type { TransactionSummary } from '../../src/transactions/read-model.port';
import { SqliteReadModel } from '../../src/read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../../src/shared/clock';
import { verifyAll } from '../../src/audit/audit-verifier';
import { auditStream } from '../../src/audit/stream-audit';
import { projectTransactionSummary } from '../../src/transactions/transaction-summary.projection';
import {
  CURRENT_SCHEMA_VERSION,
  toTransactionEvent,
  upcast,
} from '../../src/transactions/transaction-streams';
import { fold } from '../../src/transactions/transaction.state';
import storedV1Stream from '../fixtures/audit/transaction-stream.schema-v1.json';

/**
 * The fixture is a transaction stream as a schema-version-1 writer stored it: an older client
 * sent no note, so TransactionRequested has no `note` key. Its hashes were computed over exactly
 * this stored form. It must never be edited: it stands for events that can never change.
 */
function fixtureEvents(): RecordedEvent[] {
  return storedV1Stream.map((event) => ({
    ...event,
    revision: BigInt(event.revision),
    position: BigInt(event.position),
  }));
}

const STREAM = storedV1Stream[0].streamName;

/**
 * The SUCCEEDED transaction's money, as the accounts record it: audit verify proves every
 * SUCCEEDED transaction has its hold posted, so a store that is all right must have it too.
 */
async function appendPostedHold(eventStore: SqliteEventStore, requested: EventData): Promise<void> {
  const { transactionId, owner, currency, amount, requestedAt } = requested as {
    transactionId: string;
    owner: string;
    currency: string;
    amount: number;
    requestedAt: string;
  };
  const at = requestedAt;
  const events: AccountEvent[] = [
    { type: 'AccountOpened', data: { owner, currency, openedAt: at } },
    { type: 'FundsDeposited', data: { depositId: 'deposit-1', amount, reference: 'wire', at } },
    { type: 'FundsHeld', data: { holdId: transactionId, amount, expiresAt: at, at } },
    { type: 'HoldPosted', data: { holdId: transactionId, amount, at } },
  ];
  await eventStore.appendToStream(
    accountStreamName(owner, currency),
    events.map((event, index) => ({
      id: `00000000-0000-4000-8000-00000000010${index}`,
      type: event.type,
      data: { ...event.data },
      metadata: {
        correlationId: 'deposit-1',
        causationId: 'deposit-1',
        actor: 'operator:olga',
        schemaVersion: ACCOUNT_SCHEMA_VERSION,
      },
    })),
    { expectedRevision: 'no_stream' },
  );
}

describe('schema evolution: a stored version-1 stream under current code', () => {
  it('is stored at version 1 without a note, older than what this code writes', () => {
    const events = fixtureEvents();
    expect(events.every((event) => event.metadata.schemaVersion === 1)).toBe(true);
    expect(CURRENT_SCHEMA_VERSION).toBeGreaterThan(1);
    expect(events[0].data).not.toHaveProperty('note');
  });

  it('when folded through evolve, gives the state the same facts written today give', () => {
    const v1 = fixtureEvents();
    // The same facts in the current shape: what this code writes for a request without a note.
    const current = v1.map((event) => ({
      ...event,
      data: event.type === 'TransactionRequested' ? { ...event.data, note: null } : event.data,
      metadata: { ...event.metadata, schemaVersion: CURRENT_SCHEMA_VERSION },
    }));

    const state = fold(v1.map(toTransactionEvent));

    expect(state).toStrictEqual(fold(current.map(toTransactionEvent)));
    expect(state).toMatchObject({
      exists: true,
      owner: 'legacy-client',
      clientId: 'order-2019',
      request: { amount: 1250, currency: 'UGX', recipient: '+256700000002', note: null },
      status: 'SUCCEEDED',
      stage: 'final',
      finalSource: 'status_check',
      statusChecks: 1,
    });
  });

  it('keeps its hashes verifiable: upcasting happens on read, the chain covers the stored form', () => {
    const events = fixtureEvents();
    const row = events.reduce<TransactionSummary | undefined>(projectTransactionSummary, undefined);

    expect(auditStream(STREAM, events, row)).toEqual([]);
    expect(events[0].data).not.toHaveProperty('note');
  });

  it('replays through the SQLite store and the read model, and audit verify finds nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-upcasting-'));
    const eventStore = new SqliteEventStore({
      path: join(dataDir, 'events.sqlite'),
      clock: new SystemClock(),
    });
    const readModelPath = join(dataDir, 'read-model.sqlite');
    const readModel = new SqliteReadModel({ path: readModelPath });
    try {
      // Written the way the version-1 writer wrote it: data and schema version as stored.
      await eventStore.appendToStream(
        STREAM,
        fixtureEvents().map(({ id, type, data, metadata }) => {
          const { correlationId, causationId, actor, schemaVersion } = metadata;
          return { id, type, data, metadata: { correlationId, causationId, actor, schemaVersion } };
        }),
        { expectedRevision: 'no_stream' },
      );
      await appendPostedHold(eventStore, fixtureEvents()[0].data);
      const stored = await eventStore.readAll();
      const row = stored.reduce<TransactionSummary | undefined>(
        projectTransactionSummary,
        undefined,
      );
      await readModel.commit('transaction-summaries', {
        summaries: row ? [row] : [],
        checkpoint: stored.at(-1)!.position,
      });

      const accountReadModel = new SqliteAccountReadModel({
        path: join(dataDir, 'account-read-model.sqlite'),
      });
      await new AccountBalancesProjection(accountReadModel).apply(stored, stored.at(-1)!.position);
      const report = await verifyAll({
        eventStore,
        readModel,
        readModelStreamNames: () => (row ? [row.streamName] : []),
        accountReadModel,
      });
      await accountReadModel.close();

      expect(report).toMatchObject({
        streams: 1,
        events: 10,
        differences: [],
        money: { accounts: 1, warnings: [] },
      });
      expect(row?.state).toMatchObject({ request: { note: null } });
    } finally {
      await eventStore.close();
      await readModel.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('upcast', () => {
  const v1Requested = { amount: 1, currency: 'KES', recipient: 'r' };

  it('given v1 TransactionRequested without a note, then note is null', () => {
    expect(upcast('TransactionRequested', v1Requested, 1)).toEqual({ ...v1Requested, note: null });
  });

  it('given v1 TransactionRequested with a note, then the note is kept', () => {
    const data = { ...v1Requested, note: 'rent' };
    expect(upcast('TransactionRequested', data, 1)).toBe(data);
  });

  it('given a type whose shape did not change, then the data is untouched', () => {
    const data = { attempt: 1, startedAt: '2026-06-01T08:00:00.000Z' };
    expect(upcast('ProviderSubmissionStarted', data, 1)).toBe(data);
  });

  it('given data at the current version, then it is untouched', () => {
    const data = { ...v1Requested, note: null };
    expect(upcast('TransactionRequested', data, CURRENT_SCHEMA_VERSION)).toBe(data);
  });

  it('given a version newer than this code, or no valid version, then it refuses to guess', () => {
    expect(() => upcast('TransactionRequested', v1Requested, CURRENT_SCHEMA_VERSION + 1)).toThrow(
      /newer than/,
    );
    expect(() => upcast('TransactionRequested', v1Requested, 0)).toThrow(/no valid schema version/);
  });
});
