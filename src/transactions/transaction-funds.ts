import { Injectable } from '@nestjs/common';
import { AccountStreams } from '../accounts/account-streams';
import { availableBalance } from '../accounts/account.state';
import { AppConfig } from '../config/app-config';
import { Clock } from '../shared/clock';
import { TransactionStreams } from './transaction-streams';
import type { CausationContext } from './transaction-streams';
import type { ExistingTransaction } from './transaction.state';

/** What the customer's account said: the amount it holds, or the balance that did not cover it. */
export type HoldOutcome = { held: true; amount: number } | { held: false; available: number };

/**
 * The money side of a transaction: the hold on the customer's account (hold id = transaction
 * id) placed after the request is recorded and before any submission, and the refusal recorded
 * on the transaction when the balance does not cover it. Both steps are idempotent, so the
 * request route and the worker (after a crash between them) can both run them.
 */
@Injectable()
export class TransactionFunds {
  constructor(
    private readonly accounts: AccountStreams,
    private readonly streams: TransactionStreams,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** The hold expires a fixed time after the request, whichever try placed it. */
  holdExpiresAt(transaction: ExistingTransaction): string {
    return new Date(
      Date.parse(transaction.requestedAt) + this.config.provider.holdTtlMs,
    ).toISOString();
  }

  /**
   * Places the hold (a replay if an earlier try placed it) and, when the account refuses it,
   * ends the transaction FAILED with insufficient_funds. Returns the transaction as it now is.
   */
  async hold(
    transaction: ExistingTransaction,
    context: CausationContext,
  ): Promise<{ transaction: ExistingTransaction; outcome: HoldOutcome }> {
    const { transactionId, owner, request } = transaction;
    const write = await this.accounts.handle(
      {
        type: 'PlaceHold',
        owner,
        currency: request.currency,
        holdId: transactionId,
        amount: request.amount,
        expiresAt: this.holdExpiresAt(transaction),
        at: this.clock.now().toISOString(),
      },
      context,
    );
    const account = write.state;
    const hold = account.opened ? account.holds.get(transactionId) : undefined;
    if (!account.opened || !hold) throw new Error('PlaceHold left no decision on the account');
    if (hold.status !== 'refused') {
      return { transaction, outcome: { held: true, amount: hold.amount } };
    }
    // A replayed refusal appends nothing and its recorded balance is not in the state: the
    // current one stands in (only read if a crash kept the transaction from recording it).
    const refusal = write.events.find((event) => event.type === 'HoldRefused');
    const available =
      refusal?.type === 'HoldRefused' ? refusal.data.available : availableBalance(account);
    const recorded = await this.streams.handle(
      transactionId,
      { type: 'RecordFundsRefused', available, at: this.clock.now().toISOString() },
      context,
    );
    if (!recorded.state.exists) throw new Error('RecordFundsRefused left the transaction absent');
    return { transaction: recorded.state, outcome: { held: false, available } };
  }
}
