import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { ProblemException } from '../../problem/problem';
import { BudgetedStatusCheck } from '../../provider/status-checks/budgeted-status-check';
import { Clock } from '../../shared/clock';
import { TransactionStreams } from '../../transactions/transaction-streams';
import { ResolveBySupport } from '../../transactions/transaction.commands';
import { decide } from '../../transactions/transaction.decider';
import { ExistingTransaction } from '../../transactions/transaction.state';
import { retryAfterSeconds } from './retry-after';
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
    private readonly statusCheck: BudgetedStatusCheck,
    private readonly clock: Clock,
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

  /**
   * One status check under the shared budget; the provider's answer is recorded in
   * ResolvedBySupport for whoever reads the case later.
   */
  private async askProvider(transactionId: string): Promise<ResolveBySupport['providerStatus']> {
    const now = this.clock.now().getTime();
    const answer = await this.statusCheck.check(transactionId);
    switch (answer.kind) {
      case 'refused':
        // Refused now means 429 at once: a person is waiting, the worker's queue is not.
        throw tooManyRequests(answer.retryAt - now);
      case 'rate_limited':
        throw tooManyRequests(answer.retryAfterMs);
      case 'unavailable':
        throw new ProblemException('unavailable', {
          detail: `The provider did not answer the status check (${answer.detail}); retry, or resolve without checkProviderFirst`,
        });
      case 'answered':
        return answer.providerStatus;
    }
  }
}
