import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent, RecordedEvent } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { ProjectionRunner } from '../projections/projection-runner';
import { SqliteReadModel } from '../read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../shared/clock';
import type { TransactionSummary } from './read-model.port';
import { TransactionChanges } from './transaction-changes';
import { streamNameFor, transactionIdFor } from './transaction-id';
import { CURRENT_SCHEMA_VERSION } from './transaction-streams';
import {
  SUMMARY_PROJECTION,
  TransactionSummaryProjection,
  projectTransactionSummary,
} from './transaction-summary.projection';
import {
  projectSummaries,
  rebuildTransactionSummaries,
  streamsToLoad,
} from './transaction-summary.rebuild';
import type { TransactionEvent } from './transaction.events';

const AT = '2026-11-21T10:00:00.000Z';

function requested(clientId: string): TransactionEvent {
  return {
    type: 'TransactionRequested',
    data: {
      transactionId: transactionIdFor('alice', clientId),
      owner: 'alice',
      clientId,
      amount: 100,
      currency: 'KES',
      recipient: 'bob',
      note: null,
      requestedAt: AT,
    },
  };
}

const started: TransactionEvent = {
  type: 'ProviderSubmissionStarted',
  data: { attempt: 1, startedAt: AT },
};
const accepted: TransactionEvent = { type: 'ProviderAccepted', data: { attempt: 1, at: AT } };

function toNew(event: TransactionEvent): NewEvent {
  return {
    id: randomUUID(),
    type: event.type,
    data: { ...event.data },
    metadata: {
      correlationId: 'c',
      causationId: 'c',
      actor: 'test',
      schemaVersion: CURRENT_SCHEMA_VERSION,
    },
  };
}

function recorded(
  clientId: string,
  event: TransactionEvent,
  revision: bigint,
  position: bigint,
): RecordedEvent {
  return {
    ...toNew(event),
    streamName: streamNameFor(transactionIdFor('alice', clientId)),
    metadata: { ...toNew(event).metadata, recordedAt: AT },
    revision,
    position,
    previousHash: null,
    hash: 'h',
  };
}

describe('summary rebuild, pure parts', () => {
  it('projects a batch into one summary per stream, at its last revision', () => {
    const events = [
      recorded('a', requested('a'), 0n, 1n),
      recorded('b', requested('b'), 0n, 2n),
      recorded('a', started, 1n, 3n),
    ];
    const changed = projectSummaries(events, new Map());
    expect([...changed.values()].map((s) => [s.clientId, s.revision])).toStrictEqual([
      ['a', 1n],
      ['b', 0n],
    ]);
  });

  it('changes nothing for events the summary already includes', () => {
    const first = recorded('a', requested('a'), 0n, 1n);
    const summary = projectTransactionSummary(undefined, first)!;
    expect(projectSummaries([first], new Map([[summary.streamName, summary]])).size).toBe(0);
  });

  it('loads only streams seen before this batch and no longer cached', () => {
    const cachedSummary = projectTransactionSummary(
      undefined,
      recorded('cached', requested('cached'), 0n, 1n),
    )!;
    const cache = new Map([[cachedSummary.streamName, cachedSummary]]);
    const events = [
      recorded('new', requested('new'), 0n, 5n),
      recorded('new', started, 1n, 6n),
      recorded('cached', started, 1n, 7n),
      recorded('evicted', started, 1n, 8n),
    ];
    expect(streamsToLoad(events, cache)).toStrictEqual([events[3].streamName]);
  });
});

describe('rebuildTransactionSummaries', () => {
  let dir: string;
  let store: SqliteEventStore;
  let open: SqliteReadModel[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'summary-rebuild-'));
    store = new SqliteEventStore({
      path: join(dir, 'events.sqlite'),
      clock: new SystemClock(),
      pollIntervalMs: 10,
    });
    open = [];
  });

  afterEach(async () => {
    await store.close();
    await Promise.all(open.map((readModel) => readModel.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function readModel(): SqliteReadModel {
    const opened = new SqliteReadModel({ path: join(dir, 'read-model.sqlite') });
    open.push(opened);
    return opened;
  }

  async function request(clientId: string): Promise<void> {
    await store.appendToStream(
      streamNameFor(transactionIdFor('alice', clientId)),
      [toNew(requested(clientId))],
      { expectedRevision: 'no_stream' },
    );
  }

  async function advance(clientId: string, expectedRevision: bigint): Promise<void> {
    await store.appendToStream(
      streamNameFor(transactionIdFor('alice', clientId)),
      [toNew(expectedRevision === 0n ? started : accepted)],
      { expectedRevision },
    );
  }

  /** Every stream folded from its events: what the read model must hold. */
  async function expectedSummaries(): Promise<Map<string, TransactionSummary>> {
    const expected = new Map<string, TransactionSummary>();
    for (const event of await store.readAll()) {
      const next = projectTransactionSummary(expected.get(event.streamName), event);
      if (next) expected.set(event.streamName, next);
    }
    return expected;
  }

  it('swaps in a copy equal to a fold of every stream while a live runner keeps projecting', async () => {
    const clientIds = Array.from({ length: 120 }, (_, i) => `tx-${i}`);
    for (const clientId of clientIds.slice(0, 80)) await request(clientId);
    const live = readModel();
    const runner = new ProjectionRunner(
      store,
      new TransactionSummaryProjection(live, new TransactionChanges()),
    );
    await runner.start();

    // Traffic during the rebuild: new transactions and later events of old ones.
    const traffic = (async () => {
      for (const [i, clientId] of clientIds.entries()) {
        if (i >= 80) await request(clientId);
        await advance(clientId, 0n);
        if (i % 2 === 0) await advance(clientId, 1n);
      }
    })();
    const result = await rebuildTransactionSummaries(store, readModel(), { batchEvents: 7 });
    await traffic;

    const head = await store.headPosition();
    expect(await runner.waitFor(head, 5000)).toBe(true);
    await runner.stop();
    expect(runner.error).toBeNull();
    expect(result.checkpoint).toBeGreaterThan(0n);
    expect(await live.checkpoint(SUMMARY_PROJECTION)).toBe(head);
    const expected = await expectedSummaries();
    expect(await live.loadSummaries([...expected.keys()])).toStrictEqual(expected);
  });

  it('writes summaries that leave a small cache and reads them back when their stream goes on', async () => {
    const clientIds = Array.from({ length: 30 }, (_, i) => `tx-${i}`);
    for (const clientId of clientIds) await request(clientId);
    // Later events of every stream come after 29 other streams: each was evicted by then.
    for (const clientId of clientIds) await advance(clientId, 0n);
    for (const clientId of clientIds.slice(0, 10)) await advance(clientId, 1n);
    const target = readModel();

    await rebuildTransactionSummaries(store, target, { batchEvents: 4, cachedRows: 3 });

    const expected = await expectedSummaries();
    expect(expected.size).toBe(30);
    expect(await target.loadSummaries([...expected.keys()])).toStrictEqual(expected);
    expect(await target.checkpoint(SUMMARY_PROJECTION)).toBe(await store.headPosition());
  });

  it('swaps in an empty copy for an empty store', async () => {
    const result = await rebuildTransactionSummaries(store, readModel());
    expect(result).toMatchObject({ events: 0, checkpoint: 0n, swapAttempts: 1 });
  });

  it('discards the copy and leaves the live one when aborted', async () => {
    await request('a');
    const target = readModel();
    await target.commit(SUMMARY_PROJECTION, { summaries: [], checkpoint: 1n });
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));

    await expect(
      rebuildTransactionSummaries(store, target, { signal: aborted.signal }),
    ).rejects.toThrow('stop');

    expect(await target.checkpoint(SUMMARY_PROJECTION)).toBe(1n);
    await expect(target.finishRebuild(SUMMARY_PROJECTION)).rejects.toThrow(/no rebuild/);
  });
});
