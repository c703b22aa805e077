import { Injectable, Logger } from '@nestjs/common';
import { AccountStreams } from '../../accounts/account-streams';
import type { AccountCommand } from '../../accounts/account.commands';
import type { Hold } from '../../accounts/account.state';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { TransactionStreams } from '../../transactions/transaction-streams';
import type { ExistingTransaction } from '../../transactions/transaction.state';
import type { ClaimedWork } from '../work-queue.port';
import { WorkHandler, WorkOutcome, causationOf } from './work-handler';

/**
 * The hold follows the final status: SUCCEEDED posts it (the money went to the provider), FAILED
 * voids it. A support resolution that reversed a settled status reverses the settlement. Then
 * the transaction records where its money ended. Every step is idempotent, so a crash anywhere
 * is finished by running it again.
 *
 * The same work, planned at the hold's expiry when the transaction is requested, is the expiry
 * check: a transaction still PENDING then keeps its hold unless it was never submitted (nothing
 * can have reached the provider), in which case it fails and the hold is released as expired.
 */
@Injectable()
export class SettleHandler implements WorkHandler {
  private readonly logger = new Logger(SettleHandler.name);

  constructor(
    private readonly streams: TransactionStreams,
    private readonly accounts: AccountStreams,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async perform(work: ClaimedWork): Promise<WorkOutcome> {
    const { state } = await this.streams.load(work.transactionId);
    if (!state.exists) return true;
    const now = this.clock.now();
    if (state.status === 'PENDING') return this.checkExpiry(work, state, now.getTime());
    const account = await this.accounts.load(state.owner, state.request.currency);
    const hold = account.state.opened ? account.state.holds.get(state.transactionId) : undefined;
    // Nothing held: refused, or requested before accounts existed.
    if (!hold || hold.status === 'refused') return true;
    const command = this.settlement(state, hold, now.toISOString());
    if (command) await this.accounts.handle(command, causationOf(work));
    await this.streams.handle(
      state.transactionId,
      {
        type: 'RecordFundsSettled',
        funds: state.status === 'SUCCEEDED' ? 'captured' : 'released',
        at: now.toISOString(),
      },
      causationOf(work),
    );
    return true;
  }

  private async checkExpiry(
    work: ClaimedWork,
    state: ExistingTransaction,
    now: number,
  ): Promise<WorkOutcome> {
    const expiresAt = Date.parse(state.requestedAt) + this.config.provider.holdTtlMs;
    if (now < expiresAt) return { retryAt: expiresAt };
    const { events } = await this.streams.handle(
      state.transactionId,
      { type: 'ExpireHold', at: new Date(now).toISOString() },
      causationOf(work),
    );
    // Failing it plans the settlement that releases the hold; a live payment keeps it until its
    // final status, which plans the settlement then.
    if (events.length === 0) {
      this.logger.warn(
        `Hold of transaction ${state.transactionId} passed its expiry while the payment is live (${state.stage}); kept until its final status`,
      );
    }
    return true;
  }

  /** The account command that makes the hold match the transaction's status, if any is needed. */
  private settlement(state: ExistingTransaction, hold: Hold, at: string): AccountCommand | null {
    const account = { owner: state.owner, currency: state.request.currency, at };
    const holdId = state.transactionId;
    const target = state.status === 'SUCCEEDED' ? 'posted' : 'voided';
    if (hold.status === target) return null;
    if (hold.status === 'held') {
      return target === 'posted'
        ? { type: 'PostHold', ...account, holdId }
        : {
            type: 'VoidHold',
            ...account,
            holdId,
            reason: state.failureReason === 'hold_expired' ? 'expired' : 'transaction_failed',
          };
    }
    return { type: 'ReverseHold', ...account, holdId, to: target, reason: 'resolved_by_support' };
  }
}
