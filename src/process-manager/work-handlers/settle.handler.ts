import { Injectable, Logger } from '@nestjs/common';
import { AccountStreams } from '../../accounts/account-streams';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { TransactionStreams } from '../../transactions/transaction-streams';
import type { ExistingTransaction } from '../../transactions/transaction.state';
import { holdSettlement } from '../hold-settlement';
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
    const settlement = holdSettlement(state, hold, now.toISOString());
    if (!settlement) return true;
    if (settlement.command) await this.accounts.handle(settlement.command, causationOf(work));
    await this.streams.handle(
      state.transactionId,
      { type: 'RecordFundsSettled', funds: settlement.funds, at: now.toISOString() },
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
}
