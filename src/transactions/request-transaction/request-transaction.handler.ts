import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '../../shared/clock';
import { transactionIdFor } from '../transaction-id';
import { TransactionStreams } from '../transaction-streams';
import { TransactionFunds } from '../transaction-funds';
import { isFinal } from '../transaction.state';
import type { ExistingTransaction } from '../transaction.state';
import { RequestTransactionCommand } from './request-transaction.command';

export interface RequestTransactionResult {
  transaction: ExistingTransaction;
  /** True when the stream already held this request: nothing was appended. */
  replayed: boolean;
  /** Global position of the append, when there was one. */
  position: bigint | null;
}

@CommandHandler(RequestTransactionCommand)
export class RequestTransactionHandler implements ICommandHandler<
  RequestTransactionCommand,
  RequestTransactionResult
> {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly funds: TransactionFunds,
    private readonly clock: Clock,
  ) {}

  /**
   * A new id is the common case, so the request is first decided against an empty stream
   * (`expectNew`), saving a read; when the stream exists it is decided on the real state: a
   * replay, or a refusal. The request is recorded before the hold, so no hold exists without
   * its transaction; the hold is placed before answering, so insufficient funds is answered now.
   * A replay whose hold was never recorded (the first try stopped in between) places it.
   */
  async execute({
    owner,
    clientId,
    request,
    context,
  }: RequestTransactionCommand): Promise<RequestTransactionResult> {
    const transactionId = transactionIdFor(owner, clientId);
    const { state, events, position } = await this.streams.handle(
      transactionId,
      {
        type: 'RequestTransaction',
        transactionId,
        owner,
        clientId,
        request,
        requestedAt: this.clock.now().toISOString(),
      },
      context,
      { expectNew: true },
    );
    if (!state.exists) throw new Error('RequestTransaction left the transaction absent');
    const replayed = events.length === 0;
    if (state.funds !== null || isFinal(state) || state.attempts.length > 0) {
      return { transaction: state, replayed, position };
    }
    const { transaction } = await this.funds.hold(state, context);
    return { transaction, replayed, position };
  }
}
