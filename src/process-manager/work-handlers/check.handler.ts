import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import {
  BudgetedStatusCheck,
  StatusCheckGrant,
} from '../../provider/status-checks/budgeted-status-check';
import type { StatusCheckAnswer } from '../../provider/status-checks/status-check-answer';
import { Clock } from '../../shared/clock';
import { Random } from '../../shared/random';
import { TransactionStreams } from '../../transactions/transaction-streams';
import { StatusCheckResult } from '../../transactions/transaction.events';
import type { ClaimedWork } from '../work-queue.port';
import { WorkHandler, WorkOutcome, causationOf } from './work-handler';

/** What the decider records of a check the provider was asked. */
function recorded(answer: Exclude<StatusCheckAnswer, { kind: 'refused' }>): {
  result: StatusCheckResult;
  retryAfterMs: number | null;
} {
  switch (answer.kind) {
    case 'answered':
      return { result: answer.providerStatus, retryAfterMs: null };
    case 'rate_limited':
      return { result: 'rate_limited', retryAfterMs: answer.retryAfterMs };
    case 'unavailable':
      return { result: 'error', retryAfterMs: null };
  }
}

/**
 * One status check, if it is still the planned one. The worker performs a check only with a token
 * it took from the shared budget for it (ProcessManagerWorker.startCheck).
 */
@Injectable()
export class CheckHandler implements WorkHandler {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly statusCheck: BudgetedStatusCheck,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly config: AppConfig,
  ) {}

  async perform(work: ClaimedWork, grant?: StatusCheckGrant): Promise<WorkOutcome> {
    if (grant === undefined) throw new Error('a status check is performed only under a grant');
    const attempt = Number(work.payload.attempt);
    const checkNumber = Number(work.payload.checkNumber);
    const { state } = await this.streams.load(work.transactionId);
    const planned = state.exists ? state.nextCheck : null;
    if (planned?.attempt !== attempt || planned.checkNumber !== checkNumber) return true;

    const answer = await this.statusCheck.checkWithGrant(work.transactionId, grant);
    // Not sent (the grant went stale behind a busy event loop): due again now, behind older checks.
    if (answer.kind === 'not_sent') return { retryAt: this.clock.now().getTime() };
    const { result, retryAfterMs } = recorded(answer);
    await this.streams.handle(
      work.transactionId,
      {
        type: 'RecordStatusCheck',
        attempt,
        checkNumber,
        result,
        retryAfterMs,
        at: this.clock.now().toISOString(),
        jitter: this.random.next(),
        policy: this.config.provider.policy,
      },
      causationOf(work),
    );
    return true;
  }
}
