import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '../../shared/clock';
import { WrongExpectedRevisionError } from '../../event-store/event-store.port';
import { ProblemException } from '../../problem/problem';
import { transactionIdFor } from '../transaction-id';
import { LoadedTransaction, TransactionStreams } from '../transaction-streams';
import {
  ExistingTransaction,
  RequestTransaction,
  decide,
  evolve,
  initialState,
} from '../transaction.decider';
import { RequestTransactionCommand } from './request-transaction.command';

export interface RequestTransactionResult {
  transaction: ExistingTransaction;
  /** True when the stream already held this request: nothing was appended. */
  replayed: boolean;
  /** Global position of the append, when there was one. */
  position: bigint | null;
}

/** A retry loses at most once per concurrent writer; this bounds pathological contention. */
const MAX_ATTEMPTS = 5;

@CommandHandler(RequestTransactionCommand)
export class RequestTransactionHandler implements ICommandHandler<
  RequestTransactionCommand,
  RequestTransactionResult
> {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly clock: Clock,
  ) {}

  /**
   * Optimistic: a new id (the common case) is decided against the empty state and appended with
   * expected revision `no_stream`, saving a read. When the stream exists, the append fails, and
   * the request is decided again against the real state: a replay or a 422.
   */
  async execute({
    owner,
    clientId,
    request,
    context,
  }: RequestTransactionCommand): Promise<RequestTransactionResult> {
    const transactionId = transactionIdFor(owner, clientId);
    const command: RequestTransaction = {
      type: 'RequestTransaction',
      transactionId,
      owner,
      clientId,
      request,
      requestedAt: this.clock.now().toISOString(),
    };
    let loaded: LoadedTransaction = { state: initialState, revision: 'no_stream' };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const events = decide(command, loaded.state);
      const next = events.reduce(evolve, loaded.state);
      if (!next.exists) throw new Error('RequestTransaction left the transaction absent');
      if (events.length === 0) return { transaction: next, replayed: true, position: null };
      try {
        const { position } = await this.streams.append(
          transactionId,
          events,
          loaded.revision,
          context,
        );
        return { transaction: next, replayed: false, position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        loaded = await this.streams.load(transactionId);
      }
    }
    throw new ProblemException('conflict', {
      detail: 'The transaction is being changed concurrently; retry the request',
    });
  }
}
