import { performance } from 'node:perf_hooks';
import { ACCOUNT_CATEGORY } from '../accounts/account-id';
import type { EventStore } from '../event-store/event-store.port';
import { Clock, SystemClock } from '../shared/clock';
import type { AccountReadModel } from '../accounts/account-read-model.port';
import { compareAccountBalances } from '../accounts/compare-account-balances';
import type { ReadModel } from '../transactions/read-model.port';
import { TRANSACTION_CATEGORY } from '../transactions/transaction-id';
import {
  AccountAudit,
  CurrencyTotals,
  MoneyWarning,
  OverdraftExemption,
  auditAccountEvent,
  checkFunds,
  currencyTotals,
  startAccountAudit,
} from './money-audit';
import {
  Difference,
  StreamAudit,
  auditEvent,
  auditStream,
  compareWithSummary,
  orphanRowDifference,
  startStreamAudit,
} from './stream-audit';

/** TransactionSummaryProjection's name: the checkpoint its rows were committed with. */
export const SUMMARY_PROJECTION = 'transaction-summaries';

const STREAM_PREFIX = `${TRANSACTION_CATEGORY}-`;
const ACCOUNT_PREFIX = `${ACCOUNT_CATEGORY}-`;
const DEFAULT_PAGE_SIZE = 5000;
const DEFAULT_CATCH_UP_TIMEOUT_MS = 5000;
const CATCH_UP_POLL_MS = 50;
/** Stream names per loadSummaries call: one query each, a bounded parameter. */
const SUMMARY_BATCH_SIZE = 1000;

export type VerifyPhase = 'reading' | 'comparing';

export interface VerifyProgress {
  phase: VerifyPhase;
  /** reading: the global position reached; comparing: streams compared. */
  done: number;
  total: number;
  events: number;
}

export interface VerifyOptions {
  pageSize?: number;
  /** How long to wait for the summary projection to reach the audited head of `$all`. */
  catchUpTimeoutMs?: number;
  onProgress?: (progress: VerifyProgress) => void;
  /** The time a settlement pending is aged against. */
  clock?: Clock;
}

export interface VerifySources {
  eventStore: EventStore;
  readModel: ReadModel;
  /** Every stream name with a read-model row: to find rows whose stream has no events. */
  readModelStreamNames: () => Iterable<string>;
  /** The accounts' balances read model, compared with the fold of the account streams. */
  accountReadModel: AccountReadModel;
}

export interface VerifyReport {
  streams: number;
  events: number;
  /** The head of `$all` when the run started: every event up to it was audited. */
  headPosition: bigint;
  elapsedMs: number;
  differences: Difference[];
  money: MoneyReport;
}

/** What the account streams prove, at the audited head (see money-audit.ts). */
export interface MoneyReport {
  accounts: number;
  currencies: CurrencyTotals[];
  warnings: MoneyWarning[];
  exemptions: OverdraftExemption[];
}

/**
 * Replays every transaction and account stream of `$all` up to its head, proves the money of the
 * accounts at that head, and compares each transaction with its read-model row. Safe
 * against a live service: it waits for the projection to reach the head it read, and audits the
 * events a row has seen since (appended after the snapshot) before comparing with it.
 */
export async function verifyAll(
  { eventStore, readModel, readModelStreamNames, accountReadModel }: VerifySources,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const started = performance.now();
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const report = options.onProgress ?? (() => undefined);
  const head = await eventStore.headPosition();

  // Streams interleave in $all, so each is audited incrementally as its events come by.
  const audits = new Map<string, StreamAudit>();
  const accounts = new Map<string, AccountAudit>();
  let events = 0;
  for (let after = 0n; after < head;) {
    const page = await eventStore.readAll({
      after,
      maxCount: pageSize,
      filter: { streamNamePrefixes: [STREAM_PREFIX, ACCOUNT_PREFIX] },
    });
    for (const event of page) {
      if (event.position > head) break;
      if (event.streamName.startsWith(ACCOUNT_PREFIX)) {
        const account = accounts.get(event.streamName) ?? startAccountAudit(event.streamName);
        accounts.set(event.streamName, auditAccountEvent(account, event));
      } else {
        const audit = audits.get(event.streamName) ?? startStreamAudit(event.streamName);
        audits.set(event.streamName, auditEvent(audit, event));
      }
      events += 1;
    }
    const last = page.at(-1);
    after = page.length < pageSize || last === undefined ? head : last.position;
    report({ phase: 'reading', done: Number(after), total: Number(head), events });
  }

  // Both sides at the head read: later events of a stream (read below) do not count here.
  const funds = checkFunds(
    audits.values(),
    accounts.values(),
    (options.clock ?? new SystemClock()).now(),
  );
  const differences: Difference[] = [
    ...[...accounts.values()].flatMap((account) => account.differences),
    ...funds.differences,
  ];
  const checkpoint = await waitForCheckpoint(readModel, head, options.catchUpTimeoutMs);
  if (checkpoint < head) {
    differences.push({
      streamName: `projection:${SUMMARY_PROJECTION}`,
      field: 'checkpoint',
      expected: head,
      actual: checkpoint,
    });
  }

  const audited = [...audits.values()];
  for (let start = 0; start < audited.length; start += SUMMARY_BATCH_SIZE) {
    const batch = audited.slice(start, start + SUMMARY_BATCH_SIZE);
    const summaries = await readModel.loadSummaries(batch.map((audit) => audit.streamName));
    for (const snapshotAudit of batch) {
      let audit = snapshotAudit;
      const summary = summaries.get(audit.streamName);
      // The row has seen events appended after the snapshot: audit those too, so that both
      // sides stand at the same revision.
      if (summary && summary.revision >= audit.nextRevision) {
        const later = await eventStore.readStream(audit.streamName, {
          fromRevision: audit.nextRevision,
          maxCount: Number(summary.revision - audit.nextRevision + 1n),
        });
        audit = later.reduce(auditEvent, audit);
        events += later.length;
      }
      differences.push(...audit.differences, ...compareWithSummary(audit, summary));
    }
    const done = Math.min(start + SUMMARY_BATCH_SIZE, audited.length);
    report({ phase: 'comparing', done, total: audited.length, events });
  }

  let streams = audited.length;
  const unaudited = [...readModelStreamNames()].filter((name) => !audits.has(name));
  for (const streamName of unaudited) {
    // A row for a stream created after the snapshot is not an orphan: audit that stream whole.
    const streamEvents = await eventStore.readStream(streamName);
    if (streamEvents.length === 0) {
      differences.push(orphanRowDifference(streamName));
      continue;
    }
    const summaries = await readModel.loadSummaries([streamName]);
    differences.push(...auditStream(streamName, streamEvents, summaries.get(streamName)));
    streams += 1;
    events += streamEvents.length;
  }

  const balances = await compareAccountBalances(eventStore, accountReadModel);
  differences.push(
    ...balances.differences.map(({ streamName, fromEvents, fromReadModel }) => ({
      streamName,
      field: 'account balances',
      expected: fromEvents,
      actual: fromReadModel,
    })),
  );

  return {
    streams,
    events,
    headPosition: head,
    elapsedMs: performance.now() - started,
    differences,
    money: {
      accounts: accounts.size,
      currencies: currencyTotals(accounts.values()),
      warnings: funds.warnings,
      exemptions: [...accounts.values()].flatMap((account) => account.exemptions),
    },
  };
}

/** The summary projection's checkpoint once it reaches `position`, or where it stopped trying. */
async function waitForCheckpoint(
  readModel: ReadModel,
  position: bigint,
  timeoutMs = DEFAULT_CATCH_UP_TIMEOUT_MS,
): Promise<bigint> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const checkpoint = (await readModel.checkpoint(SUMMARY_PROJECTION)) ?? 0n;
    if (checkpoint >= position || performance.now() >= deadline) return checkpoint;
    await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
  }
}
