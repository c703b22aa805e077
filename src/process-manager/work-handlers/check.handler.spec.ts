import { AppConfig } from '../../config/app-config';
import { SettableClock } from '../../event-store/event-store.contract';
import {
  PaymentProvider,
  StatusCheckOutcome,
  SubmissionOutcome,
} from '../../provider/payment-provider.port';
import { BudgetedStatusCheck } from '../../provider/status-checks/budgeted-status-check';
import {
  MemoryBudgetStorage,
  MemoryStatusCheckBudget,
} from '../../provider/status-checks/memory/memory-status-check-budget';
import { SeededRandom } from '../../shared/random';
import type { LoadedTransaction, TransactionStreams } from '../../transactions/transaction-streams';
import type { ClaimedWork } from '../work-queue.port';
import { CheckHandler } from './check.handler';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const TRANSACTION_ID = '00000000-0000-4000-8000-000000000001';

/** A provider whose status checks never leave: their grant was stale when the request was written. */
class StalledProvider extends PaymentProvider {
  checks = 0;
  submit(): Promise<SubmissionOutcome> {
    throw new Error('not used by status checks');
  }
  checkStatus(): Promise<StatusCheckOutcome> {
    this.checks += 1;
    return Promise.resolve({ kind: 'not_sent' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('CheckHandler', () => {
  const config = AppConfig.fromEnvironment({});
  const clock = new SettableClock(T0);
  const provider = new StalledProvider();
  const statusCheck = new BudgetedStatusCheck(
    provider,
    new MemoryStatusCheckBudget(new MemoryBudgetStorage()),
    clock,
    config,
  );
  // The planned check 1 of attempt 1: all the handler reads of the stream before asking.
  const handle = jest.fn();
  const streams = {
    load: () =>
      Promise.resolve({
        state: { exists: true, nextCheck: { attempt: 1, checkNumber: 1 } },
      } as unknown as LoadedTransaction),
    handle,
  } as unknown as TransactionStreams;
  const handler = new CheckHandler(streams, statusCheck, clock, new SeededRandom(1), config);
  const work: ClaimedWork = {
    transactionId: TRANSACTION_ID,
    kind: 'check',
    dueAt: T0.getTime(),
    payload: { attempt: 1, checkNumber: 1 },
    version: 1,
    leaseOwner: 'worker-1',
    leaseUntil: T0.getTime() + 1_000,
  };

  it('given a grant gone stale, when the check is not sent, then nothing is recorded and it is due again now', async () => {
    const outcome = await handler.perform(work, { sendBy: T0.getTime() - 1 });
    expect(provider.checks).toBe(1);
    expect(handle).not.toHaveBeenCalled();
    expect(outcome).toEqual({ retryAt: T0.getTime() });
  });

  it('refuses to ask the provider without a grant from the budget', async () => {
    await expect(handler.perform(work)).rejects.toThrow('only under a grant');
  });
});
