import { AccountBalancesProjection } from '../../src/accounts/account-balances.projection';
import { SqliteAccountReadModel } from '../../src/read-model/sqlite/sqlite-account-read-model';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStreamName } from '../../src/accounts/account-id';
import { ACCOUNT_SCHEMA_VERSION } from '../../src/accounts/account-streams';
import type { AccountEvent } from '../../src/accounts/account.events';
import type { ExpectedRevision } from '../../src/event-store/event-store.port';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import { SqliteReadModel } from '../../src/read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../../src/shared/clock';
import { STORE_FILES } from '../../src/sqlite/store-files';
import { streamNameFor, transactionIdFor } from '../../src/transactions/transaction-id';
import type { TransactionSummary } from '../../src/transactions/read-model.port';
import {
  CURRENT_SCHEMA_VERSION,
  isTransactionStreamEvent,
} from '../../src/transactions/transaction-streams';
import { projectTransactionSummary } from '../../src/transactions/transaction-summary.projection';
import type { TransactionEvent } from '../../src/transactions/transaction.events';
import { AUDIT_CLI, runCli } from '../support/cli-process';

const AT = '2026-12-05T10:00:00.000Z';
const ALICE_KES = accountStreamName('alice', 'KES');
const BOB_UGX = accountStreamName('bob', 'UGX');

/**
 * The money side of `npm run audit -- verify`, on a store written event by event, as the
 * transaction and account write paths would: the payment flow does not hold money yet on this
 * branch, and the audit reads nothing but events (and the summaries it compares with).
 */
describe('npm run audit -- verify: the money (embedded default)', () => {
  let dataDir: string;
  let eventStore: SqliteEventStore;
  let readModel: SqliteReadModel;
  let accountReadModel: SqliteAccountReadModel;

  const holdOf = (owner: string, clientId: string) => transactionIdFor(owner, clientId);

  async function append(
    streamName: string,
    events: (AccountEvent | TransactionEvent)[],
    expectedRevision: ExpectedRevision,
    schemaVersion: number,
  ): Promise<void> {
    await eventStore.appendToStream(
      streamName,
      events.map((event) => ({
        id: randomUUID(),
        type: event.type,
        data: { ...event.data },
        metadata: { correlationId: 'e2e', causationId: 'e2e', actor: 'e2e', schemaVersion },
      })),
      { expectedRevision },
    );
  }

  async function transaction(
    owner: string,
    clientId: string,
    amount: number,
    currency: string,
    outcome: { status: 'SUCCEEDED' | 'FAILED'; reason: string | null } | null,
  ): Promise<void> {
    const transactionId = transactionIdFor(owner, clientId);
    const events: TransactionEvent[] = [
      {
        type: 'TransactionRequested',
        data: {
          transactionId,
          owner,
          clientId,
          amount,
          currency,
          recipient: '+254700000001',
          note: null,
          requestedAt: AT,
        },
      },
    ];
    if (outcome) {
      events.push({
        type: 'StatusConfirmed',
        data: { ...outcome, source: 'submission', providerStatus: null, at: AT },
      });
    }
    await append(streamNameFor(transactionId), events, 'no_stream', CURRENT_SCHEMA_VERSION);
  }

  /** What the summary projection would have committed by now: verify compares with it. */
  async function project(): Promise<void> {
    const events = await eventStore.readAll();
    const rows = new Map<string, TransactionSummary>();
    for (const event of events.filter(isTransactionStreamEvent)) {
      const row = projectTransactionSummary(rows.get(event.streamName), event);
      if (row) rows.set(event.streamName, row);
    }
    const head = await eventStore.headPosition();
    await readModel.commit('transaction-summaries', {
      summaries: [...rows.values()],
      checkpoint: head,
    });
    await new AccountBalancesProjection(accountReadModel).apply(events, head);
  }

  const accountEvents = {
    opened: (owner: string, currency: string): AccountEvent => ({
      type: 'AccountOpened',
      data: { owner, currency, openedAt: AT },
    }),
    deposited: (amount: number): AccountEvent => ({
      type: 'FundsDeposited',
      data: { depositId: randomUUID(), amount, reference: 'wire', at: AT },
    }),
    held: (holdId: string, amount: number): AccountEvent => ({
      type: 'FundsHeld',
      data: { holdId, amount, expiresAt: AT, at: AT },
    }),
    posted: (holdId: string, amount: number): AccountEvent => ({
      type: 'HoldPosted',
      data: { holdId, amount, at: AT },
    }),
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-audit-money-'));
    eventStore = new SqliteEventStore({
      path: join(dataDir, STORE_FILES.events),
      clock: new SystemClock(),
    });
    readModel = new SqliteReadModel({ path: join(dataDir, STORE_FILES.readModel) });
    accountReadModel = new SqliteAccountReadModel({
      path: join(dataDir, STORE_FILES.accountReadModel),
    });

    const { opened, deposited, held, posted } = accountEvents;
    await transaction('alice', 'paid', 2500, 'KES', { status: 'SUCCEEDED', reason: null });
    await transaction('alice', 'declined', 1000, 'KES', { status: 'FAILED', reason: 'declined' });
    await transaction('alice', 'broke', 9000, 'KES', {
      status: 'FAILED',
      reason: 'insufficient_funds',
    });
    await transaction('bob', 'waiting', 300, 'UGX', null);
    await append(
      ALICE_KES,
      [
        opened('alice', 'KES'),
        deposited(5000),
        held(holdOf('alice', 'paid'), 2500),
        held(holdOf('alice', 'declined'), 1000),
        {
          type: 'HoldRefused',
          data: {
            holdId: holdOf('alice', 'broke'),
            amount: 9000,
            reason: 'insufficient_funds',
            available: 1500,
            at: AT,
          },
        },
        posted(holdOf('alice', 'paid'), 2500),
        {
          type: 'HoldVoided',
          data: {
            holdId: holdOf('alice', 'declined'),
            amount: 1000,
            reason: 'transaction_failed',
            at: AT,
          },
        },
      ],
      'no_stream',
      ACCOUNT_SCHEMA_VERSION,
    );
    await append(
      BOB_UGX,
      [opened('bob', 'UGX'), deposited(1000), held(holdOf('bob', 'waiting'), 300)],
      'no_stream',
      ACCOUNT_SCHEMA_VERSION,
    );
    await project();
  });

  afterAll(async () => {
    await eventStore.close();
    await readModel.close();
    await accountReadModel.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes on a consistent store and prints each currency’s balances, summing to zero', async () => {
    const result = await runCli(AUDIT_CLI, dataDir, ['verify']);

    expect(result.stdout).toMatch(/audit verify: 4 streams, 17 events .* 0 differences/);
    expect(result.stdout).toContain(
      'money: 2 accounts in 2 currencies, 0 warnings, 0 overdraft exemptions',
    );
    expect(result.stdout).toContain(
      'KES: 1 accounts; posted: customers 2500, funding -5000, clearing 2500, sum 0; ' +
        'pending: customers 0, clearing 0, sum 0',
    );
    expect(result.stdout).toContain(
      'UGX: 1 accounts; posted: customers 1000, funding -1000, clearing 0, sum 0; ' +
        'pending: customers -300, clearing 300, sum 0',
    );
    expect(result.code).toBe(0);
  });

  it('fails on a rogue HoldPosted for a FAILED transaction and a FundsHeld beyond the balance', async () => {
    const declined = holdOf('alice', 'declined');
    await append(ALICE_KES, [accountEvents.posted(declined, 1000)], 6n, ACCOUNT_SCHEMA_VERSION);
    await append(BOB_UGX, [accountEvents.held('ghost', 5000)], 2n, ACCOUNT_SCHEMA_VERSION);
    await project();

    const result = await runCli(AUDIT_CLI, dataDir, ['verify']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('4 differences');
    for (const line of [
      `${ALICE_KES}  hold:${declined}@7: expected "a held hold of 1000 before HoldPosted", ` +
        'actual "a voided hold of 1000"',
      `${streamNameFor(declined)}  funds: expected "a voided or refused hold of 1000, or none", ` +
        'actual "a posted hold of 1000"',
      `${BOB_UGX}  available@3: expected "at least 5000 for FundsHeld", actual 700`,
      `${BOB_UGX}  hold:ghost: expected "a transaction of bob for 5000 UGX", actual null`,
    ]) {
      expect(result.stdout).toContain(line);
    }
  });
});
