import type { TransactionSummary } from '../transactions/read-model.port';
import { commitRejected, StoredSummaryKey, summariesToWrite } from './summary-commits';

function summary(
  clientId: string,
  revision: bigint,
  fields: Partial<TransactionSummary> = {},
): TransactionSummary {
  return {
    streamName: `transaction-alice-${clientId}`,
    owner: 'alice',
    clientId,
    status: 'PENDING',
    requestedPosition: 1n,
    revision,
    state: { exists: false },
    ...fields,
  };
}

function keyOf({
  streamName,
  owner,
  clientId,
  requestedPosition,
  revision,
}: TransactionSummary): StoredSummaryKey {
  return { streamName, owner, clientId, requestedPosition, revision };
}

describe('summariesToWrite', () => {
  it('writes the summaries of streams the copy does not hold yet', () => {
    const fresh = [summary('c1', 0n), summary('c2', 0n, { requestedPosition: 2n })];
    expect(summariesToWrite([], fresh)).toStrictEqual(fresh);
  });

  it('replaces a stored summary with one of the same or a higher revision', () => {
    const stored = [keyOf(summary('c1', 2n)), keyOf(summary('c2', 2n))];
    const same = summary('c1', 2n, { status: 'SUCCEEDED' });
    const newer = summary('c2', 5n);

    expect(summariesToWrite(stored, [same, newer])).toStrictEqual([same, newer]);
  });

  it('leaves out a summary older than the stored one, and keeps the rest of the change', () => {
    const stored = [keyOf(summary('c1', 3n))];
    const other = summary('c2', 0n);

    expect(summariesToWrite(stored, [summary('c1', 1n), other])).toStrictEqual([other]);
  });

  it.each([
    { field: 'owner', change: { owner: 'mallory' } },
    { field: 'clientId', change: { clientId: 'c9' } },
    { field: 'requestedPosition', change: { requestedPosition: 99n } },
  ])('rejects the whole change when a summary changes its $field', ({ change }) => {
    const stored = [keyOf(summary('c1', 0n))];
    const changed = { ...summary('c1', 1n), ...change, streamName: 'transaction-alice-c1' };

    expect(() => summariesToWrite(stored, [summary('c2', 0n), changed])).toThrow(
      /read model commit rejected: transaction-alice-c1 already has another owner/,
    );
  });

  it('rejects a changed fixed field even when the summary is older than the stored one', () => {
    const stored = [keyOf(summary('c1', 5n))];
    expect(() => summariesToWrite(stored, [summary('c1', 1n, { requestedPosition: 9n })])).toThrow(
      /commit rejected/,
    );
  });

  it('judges a stream named twice in one change against its own earlier summary', () => {
    const first = summary('c1', 2n);
    const older = summary('c1', 1n);
    const latest = summary('c1', 4n, { status: 'FAILED' });

    expect(summariesToWrite([], [first, older, latest])).toStrictEqual([latest]);
    expect(() => summariesToWrite([], [first, summary('c1', 3n, { owner: 'bob' })])).toThrow(
      /commit rejected/,
    );
  });
});

describe('commitRejected', () => {
  it('words a rejection like the SQLite adapter', () => {
    expect(commitRejected('why').message).toBe('read model commit rejected: why');
  });
});
