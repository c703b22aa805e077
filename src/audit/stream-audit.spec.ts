import type { EventData, RecordedEvent } from '../event-store/event-store.port';
import { chainHash } from '../event-store/hash-chain';
import type { TransactionSummary } from '../transactions/read-model.port';
import { projectTransactionSummary } from '../transactions/transaction-summary.projection';
import { CURRENT_SCHEMA_VERSION } from '../transactions/transaction-streams';
import { auditStream, diffValues, orphanRowDifference } from './stream-audit';

const STREAM = 'transaction-6b1c7e0e-0000-5000-8000-000000000001';

interface EventSpec {
  type: string;
  data: EventData;
  schemaVersion?: number;
}

/** A stream as the store writes it: revisions from 0, each hash chained to the previous one. */
function storedStream(specs: EventSpec[], firstPosition = 10n): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const [index, spec] of specs.entries()) {
    const content = {
      id: `event-${index}`,
      streamName: STREAM,
      revision: BigInt(index),
      type: spec.type,
      data: spec.data,
      metadata: {
        correlationId: 'request-1',
        causationId: index === 0 ? 'request-1' : `event-${index - 1}`,
        actor: index === 0 ? 'customer:alice' : 'process-manager',
        schemaVersion: spec.schemaVersion ?? CURRENT_SCHEMA_VERSION,
        recordedAt: `2026-11-21T10:00:0${index}.000Z`,
      },
      previousHash: events.at(-1)?.hash ?? null,
    };
    events.push({ ...content, position: firstPosition + BigInt(index), hash: chainHash(content) });
  }
  return events;
}

const requested: EventSpec = {
  type: 'TransactionRequested',
  data: {
    transactionId: '6b1c7e0e-0000-5000-8000-000000000001',
    owner: 'alice',
    clientId: 'order-1',
    amount: 2500,
    currency: 'KES',
    recipient: '+254700000001',
    note: 'rent',
    requestedAt: '2026-11-21T10:00:00.000Z',
  },
};
const started: EventSpec = {
  type: 'ProviderSubmissionStarted',
  data: { attempt: 1, startedAt: '2026-11-21T10:00:01.000Z' },
};
const confirmed: EventSpec = {
  type: 'StatusConfirmed',
  data: {
    status: 'SUCCEEDED',
    source: 'submission',
    providerStatus: 'completed',
    reason: null,
    at: '2026-11-21T10:00:02.000Z',
  },
};

/** The row the summary projection builds from these events. */
function projectedRow(events: RecordedEvent[]): TransactionSummary {
  const row = events.reduce<TransactionSummary | undefined>(projectTransactionSummary, undefined);
  if (!row) throw new Error('the events create no transaction');
  return row;
}

/** What the event's hash would be if it had been written with its current content. */
function hashOf(event: RecordedEvent): string {
  const { id, streamName, revision, type, data, metadata, previousHash } = event;
  return chainHash({ id, streamName, revision, type, data, metadata, previousHash });
}

/** The stored form of an event changed in place, its hashes left as they were. */
function tampered(event: RecordedEvent, data: EventData): RecordedEvent {
  return { ...event, data };
}

describe('auditing one stream against its read-model row', () => {
  it('given an intact stream and the row projected from it, then there is no difference', () => {
    const events = storedStream([requested, started, confirmed]);
    expect(auditStream(STREAM, events, projectedRow(events))).toEqual([]);
  });

  it('given an event whose data changed after it was stored, then its hash and the state it no longer explains are named', () => {
    const events = storedStream([requested, started, confirmed]);
    const row = projectedRow(events);
    const changed = [tampered(events[0], { ...requested.data, amount: 99 }), ...events.slice(1)];

    const differences = auditStream(STREAM, changed, row);

    expect(differences).toEqual([
      {
        streamName: STREAM,
        field: 'hash@0',
        expected: hashOf(changed[0]),
        actual: events[0].hash,
      },
      { streamName: STREAM, field: 'state.request.amount', expected: 99, actual: 2500 },
    ]);
  });

  it('given a missing event, then the gap in revisions and the broken link are named', () => {
    const events = storedStream([requested, started, confirmed]);
    const withoutSecond = [events[0], events[2]];

    const fields = auditStream(STREAM, withoutSecond, projectedRow(events)).map((d) => d.field);

    expect(fields).toEqual(
      expect.arrayContaining(['revision@2', 'previousHash@2', 'state.attempts.length']),
    );
  });

  it('given a row whose status was changed, then status is named with both values', () => {
    const events = storedStream([requested, started]);
    const row = { ...projectedRow(events), status: 'SUCCEEDED' };

    expect(auditStream(STREAM, events, row)).toEqual([
      { streamName: STREAM, field: 'status', expected: 'PENDING', actual: 'SUCCEEDED' },
    ]);
  });

  it('given a row whose stored state was changed, then the changed field is named by its path', () => {
    const events = storedStream([requested, started]);
    const row = projectedRow(events);
    const corrupted = { ...row, state: { ...row.state, stage: 'final' } } as TransactionSummary;

    expect(auditStream(STREAM, events, corrupted)).toEqual([
      { streamName: STREAM, field: 'state.stage', expected: 'submitted', actual: 'final' },
    ]);
  });

  it('given a row that lags behind its stream, then revision and what changed since are named', () => {
    const events = storedStream([requested, started, confirmed]);
    const stale = projectedRow(events.slice(0, 2));

    const fields = auditStream(STREAM, events, stale).map((d) => d.field);

    expect(fields).toEqual(expect.arrayContaining(['status', 'revision', 'state.status']));
  });

  it('given a stream without a row, then the missing row is named', () => {
    const events = storedStream([requested]);
    expect(auditStream(STREAM, events, undefined)).toEqual([
      { streamName: STREAM, field: 'row', expected: 'a row', actual: null },
    ]);
  });

  it('given an event of a type the domain does not know, then its type is named', () => {
    const events = storedStream([requested, { type: 'SomethingElse', data: {} }]);
    const row = projectedRow(events.slice(0, 1));

    expect(auditStream(STREAM, events, { ...row, revision: 1n })).toEqual([
      {
        streamName: STREAM,
        field: 'type@1',
        expected: 'a transaction event type',
        actual: 'SomethingElse',
      },
    ]);
  });

  it('given an event written by a newer schema version, then it is reported as unreadable, not thrown', () => {
    const future = { ...started, schemaVersion: CURRENT_SCHEMA_VERSION + 1 };
    const events = storedStream([requested, future]);
    const row = { ...projectedRow(events.slice(0, 1)), revision: 1n };

    const differences = auditStream(STREAM, events, row);

    expect(differences).toEqual([
      expect.objectContaining({ field: 'data@1', expected: 'readable by this version' }),
    ]);
  });

  it('names a read-model row whose stream has no events', () => {
    expect(orphanRowDifference(STREAM)).toEqual({
      streamName: STREAM,
      field: 'row',
      expected: null,
      actual: 'a row without events',
    });
  });
});

describe('diffValues', () => {
  it('treats a key holding undefined as absent, as the JSON the read model stores does', () => {
    expect(diffValues({ a: 1, b: undefined }, { a: 1 }, '')).toEqual([]);
  });

  it('names array elements and lengths by path', () => {
    expect(diffValues({ list: [1, 2] }, { list: [1] }, '')).toEqual([
      { path: 'list.1', expected: 2, actual: undefined },
      { path: 'list.length', expected: 2, actual: 1 },
    ]);
  });

  it('compares bigints by value', () => {
    expect(diffValues({ revision: 3n }, { revision: 3n }, '')).toEqual([]);
    expect(diffValues({ revision: 3n }, { revision: 4n }, '')).toEqual([
      { path: 'revision', expected: 3n, actual: 4n },
    ]);
  });
});
