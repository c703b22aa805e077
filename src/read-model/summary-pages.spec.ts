import type { TransactionSummary } from '../transactions/read-model.port';
import { newestFirstPage } from './summary-pages';

describe('newestFirstPage', () => {
  const rows = [3n, 2n, 1n].map((position): TransactionSummary => ({
    streamName: `transaction-${position}`,
    owner: 'alice',
    clientId: `c${position}`,
    status: 'PENDING',
    requestedPosition: position,
    revision: 0n,
    state: { exists: false },
  }));

  it('has no cursor when the rows fit the limit', () => {
    expect(newestFirstPage(rows.slice(0, 2), 2)).toStrictEqual({
      items: rows.slice(0, 2),
      nextBefore: null,
    });
  });

  it('cuts the extra row and points the cursor at the last item kept', () => {
    expect(newestFirstPage(rows, 2)).toStrictEqual({ items: rows.slice(0, 2), nextBefore: 2n });
  });
});
