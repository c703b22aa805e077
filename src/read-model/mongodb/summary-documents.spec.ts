import fc from 'fast-check';
import { BSON } from 'mongodb';
import { decide } from '../../transactions/transaction.decider';
import { TransactionEvent } from '../../transactions/transaction.events';
import { fold, initialState } from '../../transactions/transaction.state';
import type { TransactionSummary } from '../../transactions/read-model.port';
import {
  fromSummaryDocument,
  fromSummaryKeyDocument,
  STORED_SUMMARY_FIELDS,
  StoredSummary,
  summaryDocumentId,
  toSummaryDocument,
} from './summary-documents';

/** A state as projections store it, taken from the decider itself. */
function summaryAfter(
  events: TransactionEvent[],
  options: { note?: string | null; position?: bigint } = {},
): TransactionSummary {
  const requested = decide(
    {
      type: 'RequestTransaction',
      transactionId: 'id-alice-c1',
      owner: 'alice',
      clientId: 'c1',
      request: {
        amount: 2_147_483_648,
        currency: 'EUR',
        recipient: 'Zoë Ødegård 💸',
        note: options.note ?? null,
      },
      requestedAt: '2025-01-02T03:04:05.678Z',
    },
    initialState,
  );
  const state = fold([...requested, ...events]);
  if (!state.exists) throw new Error('the request did not create the transaction');
  return {
    streamName: 'transaction-alice-c1',
    owner: 'alice',
    clientId: 'c1',
    status: state.status,
    requestedPosition: options.position ?? 7n,
    revision: BigInt(events.length),
    state,
  };
}

const conflicted: TransactionEvent[] = [
  {
    type: 'ProviderSubmissionStarted',
    data: { attempt: 1, startedAt: '2025-01-02T03:04:06.000Z' },
  },
  {
    type: 'StatusConfirmed',
    data: {
      status: 'SUCCEEDED',
      source: 'submission',
      providerStatus: 'completed',
      reason: null,
      at: '2025-01-02T03:04:07.000Z',
    },
  },
  {
    type: 'ConflictingStatusReported',
    data: {
      reported: 'declined',
      source: 'webhook',
      confirmed: 'SUCCEEDED',
      at: '2025-01-02T03:04:08.000Z',
      reportId: 'msg_1',
    },
  },
  {
    type: 'ReconciliationRequired',
    data: { reason: 'conflicting_reports', at: '2025-01-02T03:04:08.000Z' },
  },
];

/** What the driver does to a document on its way to the server and back (default options). */
function throughBson<T extends BSON.Document>(document: T): BSON.Document {
  return BSON.deserialize(BSON.serialize(document, { ignoreUndefined: true }));
}

/** The fields STORED_SUMMARY_FIELDS asks the server for (the server applies the projection). */
function projected(document: BSON.Document): BSON.Document {
  return Object.fromEntries(
    Object.entries(document).filter(
      ([field]) => (STORED_SUMMARY_FIELDS as Record<string, number>)[field] === 1,
    ),
  );
}

describe('summary documents', () => {
  it.each([
    ['just requested', [], null],
    ['with a note in any script', [], 'für Miete — 房租 🏠'],
    ['through a contradicted final status', conflicted, null],
  ])('survive BSON and come back deep-equal (%s)', (_name, events, note) => {
    const summary = summaryAfter(events, { note });

    const stored = throughBson(toSummaryDocument(3, summary));

    expect(fromSummaryDocument(projected(stored) as StoredSummary)).toStrictEqual(summary);
  });

  it('copies the fields support queries on out of the state', () => {
    const summary = summaryAfter(conflicted);

    expect(toSummaryDocument(3, summary)).toMatchObject({
      _id: '3:transaction-alice-c1',
      generation: 3,
      transactionId: 'id-alice-c1',
      stage: 'needs_reconciliation',
      requestedAt: '2025-01-02T03:04:05.678Z',
      reconciliation: 'conflicting_reports',
    });
    expect(toSummaryDocument(3, summaryAfter([]))).toMatchObject({
      stage: 'requested',
      reconciliation: null,
    });
  });

  it('stores positions and revisions beyond 2^64 as sortable strings and reads them back', () => {
    const summary = { ...summaryAfter([]), requestedPosition: 2n ** 100n, revision: 2n ** 64n };

    const stored = toSummaryDocument(0, summary);

    expect(stored.requestedPosition).toBe((2n ** 100n).toString().padStart(40, '0'));
    expect(fromSummaryDocument(stored)).toStrictEqual(summary);
    expect(fromSummaryKeyDocument(stored)).toStrictEqual({
      streamName: summary.streamName,
      owner: 'alice',
      clientId: 'c1',
      requestedPosition: 2n ** 100n,
      revision: 2n ** 64n,
    });
  });

  it('refuses to store a negative position rather than misorder it', () => {
    expect(() => toSummaryDocument(0, { ...summaryAfter([]), requestedPosition: -1n })).toThrow(
      RangeError,
    );
  });

  it('gives every (generation, stream) its own id', () => {
    const generation = fc.nat({ max: 1_000 });
    const streamName = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(generation, streamName, generation, streamName, (g1, s1, g2, s2) => {
        const same = summaryDocumentId(g1, s1) === summaryDocumentId(g2, s2);
        expect(same).toBe(g1 === g2 && s1 === s2);
      }),
    );
    expect(summaryDocumentId(1, '2:x')).not.toBe(summaryDocumentId(12, ':x'));
  });
});
