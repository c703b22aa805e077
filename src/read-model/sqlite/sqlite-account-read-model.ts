import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { accountStreamName } from '../../accounts/account-id';
import {
  AccountBalance,
  AccountEntry,
  AccountEntryKind,
  AccountReadModel,
  AccountReadModelChange,
  AccountRebuildSwap,
  BalancePage,
  CurrencyBalances,
  EntryPage,
  ListEntriesQuery,
} from '../../accounts/account-read-model.port';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import { assertLimit } from '../../transactions/read-model.port';

/**
 * Bumped whenever a table's columns change: a file of another version is emptied, and the
 * projection replays every event into the new shape (the streams hold everything).
 */
export const ACCOUNT_SCHEMA_VERSION = 1;

const LIVE = { balances: 'account_balances', entries: 'account_entries' };
const REBUILD = { balances: 'account_balances_rebuild', entries: 'account_entries_rebuild' };
type Tables = typeof LIVE;

const BALANCE_COLUMNS = `stream_name, owner, currency, revision, posted, pending, available,
  overdraft_limit, funding_posted, funding_pending, clearing_posted, clearing_pending`;
const ENTRY_COLUMNS = `entry_id, stream_name, owner, currency, revision, kind, amount, balance,
  transaction_id, reference, at, posted_after, pending_after, available_after`;

function tablesSql({ balances, entries }: Tables, indexPrefix: string): string {
  return `
  CREATE TABLE ${balances} (
    stream_name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    currency TEXT NOT NULL,
    revision INTEGER NOT NULL,
    posted INTEGER NOT NULL,
    pending INTEGER NOT NULL,
    available INTEGER NOT NULL,
    overdraft_limit INTEGER NOT NULL,
    funding_posted INTEGER NOT NULL,
    funding_pending INTEGER NOT NULL,
    clearing_posted INTEGER NOT NULL,
    clearing_pending INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX ${indexPrefix}_by_owner ON ${balances} (owner, currency);
  CREATE TABLE ${entries} (
    entry_id TEXT PRIMARY KEY,
    stream_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    currency TEXT NOT NULL,
    revision INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    balance TEXT NOT NULL,
    transaction_id TEXT,
    reference TEXT,
    at TEXT NOT NULL,
    posted_after INTEGER NOT NULL,
    pending_after INTEGER NOT NULL,
    available_after INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX ${indexPrefix}_newest_first ON ${entries} (stream_name, revision DESC);`;
}

const CHECKPOINTS_SQL = `
  CREATE TABLE IF NOT EXISTS account_checkpoints (
    copy TEXT PRIMARY KEY CHECK (copy IN ('live', 'rebuild')),
    position INTEGER NOT NULL
  ) STRICT;`;

interface BalanceRow {
  stream_name: string;
  owner: string;
  currency: string;
  revision: bigint;
  posted: bigint;
  pending: bigint;
  available: bigint;
  overdraft_limit: bigint;
  funding_posted: bigint;
  funding_pending: bigint;
  clearing_posted: bigint;
  clearing_pending: bigint;
}

interface EntryRow {
  entry_id: string;
  stream_name: string;
  owner: string;
  currency: string;
  revision: bigint;
  kind: string;
  amount: bigint;
  balance: string;
  transaction_id: string | null;
  reference: string | null;
  at: string;
  posted_after: bigint;
  pending_after: bigint;
  available_after: bigint;
}

function toBalance(row: BalanceRow): AccountBalance {
  return {
    streamName: row.stream_name,
    owner: row.owner,
    currency: row.currency,
    revision: row.revision,
    posted: Number(row.posted),
    pending: Number(row.pending),
    available: Number(row.available),
    overdraftLimit: Number(row.overdraft_limit),
    funding: { posted: Number(row.funding_posted), pending: Number(row.funding_pending) },
    clearing: { posted: Number(row.clearing_posted), pending: Number(row.clearing_pending) },
  };
}

function toEntry(row: EntryRow): AccountEntry {
  return {
    entryId: row.entry_id,
    streamName: row.stream_name,
    owner: row.owner,
    currency: row.currency,
    revision: row.revision,
    kind: row.kind as AccountEntryKind,
    amount: Number(row.amount),
    balance: row.balance as AccountEntry['balance'],
    transactionId: row.transaction_id,
    reference: row.reference,
    at: row.at,
    postedAfter: Number(row.posted_after),
    pendingAfter: Number(row.pending_after),
    availableAfter: Number(row.available_after),
  };
}

function balanceParams(balance: AccountBalance): unknown[] {
  return [
    balance.streamName,
    balance.owner,
    balance.currency,
    balance.revision,
    balance.posted,
    balance.pending,
    balance.available,
    balance.overdraftLimit,
    balance.funding.posted,
    balance.funding.pending,
    balance.clearing.posted,
    balance.clearing.pending,
  ];
}

function entryParams(entry: AccountEntry): unknown[] {
  return [
    entry.entryId,
    entry.streamName,
    entry.owner,
    entry.currency,
    entry.revision,
    entry.kind,
    entry.amount,
    entry.balance,
    entry.transactionId,
    entry.reference,
    entry.at,
    entry.postedAfter,
    entry.pendingAfter,
    entry.availableAfter,
  ];
}

/**
 * The embedded account read model: its own file (`account-read-model.sqlite`) beside the
 * transaction summaries', so each keeps its own schema version and write lock. Commits are
 * small (a batch's touched accounts and its entries) and run on this connection.
 *
 * synchronous=NORMAL, like the summaries: a lost commit also loses its checkpoint, so the
 * projection re-applies those events.
 */
export class SqliteAccountReadModel extends AccountReadModel {
  private readonly db: Database.Database;
  private readonly readOnly: boolean;

  /** `readOnly` is for tools that inspect a live file: it never creates or empties anything. */
  constructor(options: { path: string; readOnly?: boolean }) {
    super();
    this.readOnly = options.readOnly ?? false;
    if (this.readOnly) {
      this.db = new Database(options.path, { readonly: true, fileMustExist: true });
      this.db.defaultSafeIntegers(true);
      const version = Number(this.db.pragma('user_version', { simple: true }));
      if (version !== ACCOUNT_SCHEMA_VERSION) {
        this.db.close();
        throw new Error(
          `${options.path} has account read-model schema ${version}; this build reads ` +
            `${ACCOUNT_SCHEMA_VERSION}. Run the tool from the same build as the service.`,
        );
      }
    } else {
      this.db = openSqliteDatabase(options.path, 'NORMAL');
      this.db.defaultSafeIntegers(true);
      this.openSchema();
    }
  }

  /** Creates the tables, first emptying a file of another schema version; under the write lock. */
  private openSchema(): void {
    this.db
      .transaction(() => {
        const version = Number(this.db.pragma('user_version', { simple: true }));
        if (version !== ACCOUNT_SCHEMA_VERSION) {
          for (const table of [...Object.values(LIVE), ...Object.values(REBUILD)]) {
            this.db.exec(`DROP TABLE IF EXISTS ${table}`);
          }
          this.db.exec('DROP TABLE IF EXISTS account_checkpoints');
          this.db.pragma(`user_version = ${ACCOUNT_SCHEMA_VERSION}`);
        }
        this.db.exec(CHECKPOINTS_SQL);
        if (!this.tableExists(LIVE.balances)) this.db.exec(tablesSql(LIVE, 'account'));
      })
      .immediate();
  }

  private tableExists(table: string): boolean {
    return (
      this.db
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
        .get(table) !== undefined
    );
  }

  private readCheckpoint(copy: 'live' | 'rebuild'): bigint | null {
    const row = this.db
      .prepare<[string], { position: bigint }>(
        'SELECT position FROM account_checkpoints WHERE copy = ?',
      )
      .get(copy);
    return row?.position ?? null;
  }

  private load(tables: Tables, streamNames: string[]): Map<string, AccountBalance> {
    const balances = new Map<string, AccountBalance>();
    if (streamNames.length === 0) return balances;
    const rows = this.db
      .prepare<[string], BalanceRow>(
        `SELECT ${BALANCE_COLUMNS} FROM ${tables.balances}
         WHERE stream_name IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(streamNames));
    for (const row of rows) balances.set(row.stream_name, toBalance(row));
    return balances;
  }

  private write(tables: Tables, copy: 'live' | 'rebuild', change: AccountReadModelChange): void {
    if (this.readOnly) throw new Error('the account read model was opened read-only');
    const upsertBalance = this.db.prepare(
      `INSERT INTO ${tables.balances} (${BALANCE_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_name) DO UPDATE SET
         revision = excluded.revision, posted = excluded.posted, pending = excluded.pending,
         available = excluded.available, overdraft_limit = excluded.overdraft_limit,
         funding_posted = excluded.funding_posted, funding_pending = excluded.funding_pending,
         clearing_posted = excluded.clearing_posted, clearing_pending = excluded.clearing_pending
       WHERE excluded.revision > ${tables.balances}.revision`,
    );
    const insertEntry = this.db.prepare(
      `INSERT INTO ${tables.entries} (${ENTRY_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (entry_id) DO NOTHING`,
    );
    const writeCheckpoint = this.db.prepare(
      `INSERT INTO account_checkpoints (copy, position) VALUES (?, ?)
       ON CONFLICT (copy) DO UPDATE SET position = max(position, excluded.position)`,
    );
    this.db
      .transaction(() => {
        for (const row of change.rows) {
          if (row.kind === 'balance') upsertBalance.run(...balanceParams(row.balance));
          else insertEntry.run(...entryParams(row.entry));
        }
        writeCheckpoint.run(copy, change.checkpoint);
      })
      .immediate();
  }

  async checkpoint(): Promise<bigint | null> {
    return this.readCheckpoint('live');
  }

  async loadBalances(streamNames: string[]): Promise<Map<string, AccountBalance>> {
    return this.load(LIVE, streamNames);
  }

  async commit(change: AccountReadModelChange): Promise<void> {
    this.write(LIVE, 'live', change);
  }

  async beginRebuild(): Promise<void> {
    // Index names are unique per file and survive a table rename: each copy gets fresh ones.
    const prefix = `account_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    this.db
      .transaction(() => {
        for (const table of Object.values(REBUILD)) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
        this.db.prepare("DELETE FROM account_checkpoints WHERE copy = 'rebuild'").run();
        this.db.exec(tablesSql(REBUILD, prefix));
      })
      .immediate();
  }

  async loadRebuildBalances(streamNames: string[]): Promise<Map<string, AccountBalance>> {
    return this.load(REBUILD, streamNames);
  }

  async commitRebuild(change: AccountReadModelChange): Promise<void> {
    this.write(REBUILD, 'rebuild', change);
  }

  async finishRebuild(): Promise<AccountRebuildSwap> {
    return this.db
      .transaction((): AccountRebuildSwap => {
        const rebuildCheckpoint = this.readCheckpoint('rebuild');
        const liveCheckpoint = this.readCheckpoint('live');
        if (
          rebuildCheckpoint === null ||
          (liveCheckpoint !== null && rebuildCheckpoint < liveCheckpoint)
        ) {
          return { swapped: false, rebuildCheckpoint, liveCheckpoint };
        }
        for (const table of Object.values(LIVE)) this.db.exec(`DROP TABLE ${table}`);
        this.db.exec(`ALTER TABLE ${REBUILD.balances} RENAME TO ${LIVE.balances}`);
        this.db.exec(`ALTER TABLE ${REBUILD.entries} RENAME TO ${LIVE.entries}`);
        this.db
          .prepare(
            `INSERT INTO account_checkpoints (copy, position) VALUES ('live', ?)
             ON CONFLICT (copy) DO UPDATE SET position = excluded.position`,
          )
          .run(rebuildCheckpoint);
        this.db.prepare("DELETE FROM account_checkpoints WHERE copy = 'rebuild'").run();
        return { swapped: true, checkpoint: rebuildCheckpoint };
      })
      .immediate();
  }

  async abandonRebuild(): Promise<void> {
    this.db
      .transaction(() => {
        for (const table of Object.values(REBUILD)) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
        this.db.prepare("DELETE FROM account_checkpoints WHERE copy = 'rebuild'").run();
      })
      .immediate();
  }

  async listAccounts(owner: string): Promise<AccountBalance[]> {
    return this.db
      .prepare<[string], BalanceRow>(
        `SELECT ${BALANCE_COLUMNS} FROM ${LIVE.balances} WHERE owner = ? ORDER BY currency`,
      )
      .all(owner)
      .map(toBalance);
  }

  async findAccount(owner: string, currency: string): Promise<AccountBalance | null> {
    const row = this.db
      .prepare<[string], BalanceRow>(
        `SELECT ${BALANCE_COLUMNS} FROM ${LIVE.balances} WHERE stream_name = ?`,
      )
      .get(accountStreamName(owner, currency));
    return row ? toBalance(row) : null;
  }

  async listEntries({ owner, currency, before, limit }: ListEntriesQuery): Promise<EntryPage> {
    assertLimit(limit);
    const rows = this.db
      .prepare<[string, bigint | null, bigint | null, number], EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM ${LIVE.entries}
         WHERE stream_name = ? AND (? IS NULL OR revision < ?)
         ORDER BY revision DESC LIMIT ?`,
      )
      .all(accountStreamName(owner, currency), before ?? null, before ?? null, limit + 1);
    const items = rows.slice(0, limit).map(toEntry);
    return { items, nextBefore: rows.length > limit ? items[items.length - 1].revision : null };
  }

  async scanBalances({ after, limit }: { after?: string; limit: number }): Promise<BalancePage> {
    assertLimit(limit);
    const rows = this.db
      .prepare<[string, number], BalanceRow>(
        `SELECT ${BALANCE_COLUMNS} FROM ${LIVE.balances} WHERE stream_name > ?
         ORDER BY stream_name LIMIT ?`,
      )
      .all(after ?? '', limit + 1);
    const items = rows.slice(0, limit).map(toBalance);
    return { items, nextAfter: rows.length > limit ? items[items.length - 1].streamName : null };
  }

  async currencyBalances(): Promise<CurrencyBalances[]> {
    const rows = this.db
      .prepare<
        [],
        {
          currency: string;
          posted: bigint;
          pending: bigint;
          funding_posted: bigint;
          funding_pending: bigint;
          clearing_posted: bigint;
          clearing_pending: bigint;
        }
      >(
        `SELECT currency, SUM(posted) AS posted, SUM(pending) AS pending,
           SUM(funding_posted) AS funding_posted, SUM(funding_pending) AS funding_pending,
           SUM(clearing_posted) AS clearing_posted, SUM(clearing_pending) AS clearing_pending
         FROM ${LIVE.balances} GROUP BY currency ORDER BY currency`,
      )
      .all();
    return rows.map((row) => ({
      currency: row.currency,
      // The customers' pending leg is a debit: the holds they owe.
      customers: { posted: Number(row.posted), pending: 0 - Number(row.pending) },
      funding: { posted: Number(row.funding_posted), pending: Number(row.funding_pending) },
      clearing: { posted: Number(row.clearing_posted), pending: Number(row.clearing_pending) },
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
