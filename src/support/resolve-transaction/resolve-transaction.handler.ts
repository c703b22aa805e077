import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { WorkStore } from '../../process-manager/work-store.port';
import { ProblemException } from '../../problem/problem';
import { PaymentProvider } from '../../provider/payment-provider.port';
import { Clock } from '../../shared/clock';
import { TransactionStreams } from '../../transactions/transaction-streams';
import { ResolveBySupport } from '../../transactions/transaction.commands';
import { decide } from '../../transactions/transaction.decider';
import { ExistingTransaction } from '../../transactions/transaction.state';
import { interpretProviderCheck, retryAfterSeconds } from './provider-check';
import { ResolveTransactionCommand } from './resolve-transaction.command';

function tooManyRequests(waitMs: number): ProblemException {
  return new ProblemException(
    'tooManyRequests',
    {
      detail:
        'No provider status check is allowed right now (shared budget); retry after Retry-After ' +
        'seconds, or resolve without checkProviderFirst',
    },
    { 'Retry-After': String(retryAfterSeconds(waitMs)) },
  );
}

@CommandHandler(ResolveTransactionCommand)
export class ResolveTransactionHandler implements ICommandHandler<
  ResolveTransactionCommand,
  ExistingTransaction
> {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly provider: PaymentProvider,
    private readonly workStore: WorkStore,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async execute(command: ResolveTransactionCommand): Promise<ExistingTransaction> {
    const { transactionId, status, note, checkProviderFirst, context } = command;
    const resolution = (providerStatus: ResolveBySupport['providerStatus']): ResolveBySupport => ({
      type: 'ResolveBySupport',
      status,
      note,
      providerStatus,
      at: this.clock.now().toISOString(),
    });
    if (checkProviderFirst) {
      // A dry run of the decision: an unknown or unresolvable transaction is refused (404, 409)
      // before a status check is taken from the budget every instance shares.
      decide(resolution(null), (await this.streams.load(transactionId)).state);
    }
    const providerStatus = checkProviderFirst ? await this.askProvider(transactionId) : null;
    const { state } = await this.streams.handle(transactionId, resolution(providerStatus), context);
    if (!state.exists) throw new Error(`ResolveBySupport left ${transactionId} absent`);
    return state;
  }

  /** One status check under the shared budget, treated the way the process manager treats it. */
  private async askProvider(transactionId: string): Promise<ResolveBySupport['providerStatus']> {
    const { statusChecks } = this.config.provider;
    const now = this.clock.now().getTime();
    // Refused now means 429 at once: a person is waiting, the worker's queue is not.
    const budget = await this.workStore.takeStatusCheck(now, statusChecks);
    if (!budget.granted) throw tooManyRequests(budget.retryAt - now);

    const outcome = await this.provider.checkStatus(transactionId);
    const answer = interpretProviderCheck(outcome, statusChecks.defaultBackoffMs);
    const answeredAt = this.clock.now().getTime();
    if (answer.kind === 'rate_limited') {
      await this.workStore.slowDown(answeredAt, answeredAt + answer.retryAfterMs, statusChecks);
      throw tooManyRequests(answer.retryAfterMs);
    }
    await this.workStore.recover(answeredAt, statusChecks);
    if (answer.kind === 'unavailable') {
      throw new ProblemException('unavailable', {
        detail: `The provider did not answer the status check (${answer.detail}); retry, or resolve without checkProviderFirst`,
      });
    }
    return answer.providerStatus;
  }
}
