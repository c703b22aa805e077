import type { AppConfig } from '../../config/app-config';
import type { ProjectionsService } from '../../projections/projections.service';
import type { ReadModel, TransactionSummary } from '../read-model.port';
import { TransactionChanges } from '../transaction-changes';
import { streamNameFor, transactionIdFor } from '../transaction-id';
import { initialState } from '../transaction.state';
import { GetTransactionHandler } from './get-transaction.handler';
import { GetTransactionQuery } from './get-transaction.query';

const streamName = streamNameFor(transactionIdFor('alice', 'order-1'));

function summaryAt(revision: bigint, status = 'PENDING'): TransactionSummary {
  return {
    streamName,
    owner: 'alice',
    clientId: 'order-1',
    status,
    requestedPosition: 1n,
    revision,
    state: initialState,
  };
}

/**
 * A read model the projection moves on while a wait is held: each read after the first sees
 * the next stored summary, none of which satisfies the wait.
 */
function readModelMovingTo(...summaries: TransactionSummary[]): ReadModel {
  const stored = [...summaries];
  return {
    findSummary: async () => (stored.length > 1 ? stored.shift()! : stored[0]),
  } as unknown as ReadModel;
}

function handlerOver(readModel: ReadModel): GetTransactionHandler {
  const caughtUp = { catchUp: async () => true } as unknown as ProjectionsService;
  const config = { readConsistencyTimeoutMs: 1 } as AppConfig;
  return new GetTransactionHandler(readModel, caughtUp, new TransactionChanges(), config);
}

describe('GetTransactionHandler', () => {
  it('answers the state when a wait for the final status times out, not the state it started from', async () => {
    const handler = handlerOver(readModelMovingTo(summaryAt(1n), summaryAt(7n)));
    const answer = await handler.execute(
      new GetTransactionQuery('alice', 'order-1', { until: 'final', timeoutMs: 0 }),
    );
    expect(answer?.revision).toBe(7n);
  });

  it('answers the state when a wait for a change times out', async () => {
    const handler = handlerOver(readModelMovingTo(summaryAt(3n), summaryAt(3n)));
    const answer = await handler.execute(
      new GetTransactionQuery('alice', 'order-1', {
        until: 'changed',
        afterRevision: 3n,
        timeoutMs: 0,
      }),
    );
    expect(answer?.revision).toBe(3n);
  });

  it('answers at once, without waiting, when the state read satisfies the wait', async () => {
    const handler = handlerOver(readModelMovingTo(summaryAt(4n, 'SUCCEEDED'), summaryAt(9n)));
    const answer = await handler.execute(
      new GetTransactionQuery('alice', 'order-1', { until: 'final', timeoutMs: 60_000 }),
    );
    expect(answer).toMatchObject({ revision: 4n, status: 'SUCCEEDED' });
  });
});
