import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { PaymentProvider } from '../payment-provider.port';
import { StatusCheckAnswer, interpretProviderCheck } from './status-check-answer';
import { StatusCheckBudget } from './status-check-budget.port';

/**
 * A granted check leaves within this many token intervals of its grant, or not at all. Grants
 * are spaced one interval apart across every instance, so in any L seconds at most
 * floor(L * rate) + 1 + SEND_WINDOW_TOKENS checks leave, however long our own process stalls
 * between a grant and its request: 7 in a second at the default 2/s, against the reference
 * provider's 10. Without it, an event loop busy for seconds took grants on time and sent them
 * all at once when it got to its sockets (the chaos run's bans).
 */
export const SEND_WINDOW_TOKENS = 4;

/**
 * Every status check the service sends goes through here, whoever asks (the process manager,
 * support): take a token from the budget every instance shares, ask the provider, then slow the
 * budget down on a 429 or let it recover on any other answer.
 */
@Injectable()
export class BudgetedStatusCheck {
  private readonly logger = new Logger('StatusChecks');
  /** The earliest retry time not yet given to a refused check of this process. */
  private nextRetrySlot = 0;

  constructor(
    private readonly provider: PaymentProvider,
    private readonly budget: StatusCheckBudget,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async check(providerId: string): Promise<StatusCheckAnswer> {
    const { statusChecks } = this.config.provider;
    const tokenMs = 1000 / statusChecks.ratePerSecond;
    const grantedAt = this.now();
    const decision = await this.budget.take(grantedAt, statusChecks);
    if (!decision.granted) return this.refused(decision.retryAt, tokenMs);
    const outcome = await this.provider.checkStatus(
      providerId,
      grantedAt + SEND_WINDOW_TOKENS * tokenMs,
    );
    if (outcome.kind === 'not_sent') {
      this.logger.warn({ providerId }, 'status check not sent: its grant is too old; will retry');
      return this.refused(this.now(), tokenMs);
    }
    const answer = interpretProviderCheck(outcome, statusChecks.defaultBackoffMs);
    const answeredAt = this.now();
    if (answer.kind === 'rate_limited') {
      const { retryAfterMs } = answer;
      await this.budget.slowDown(answeredAt, answeredAt + retryAfterMs, statusChecks);
      this.logger.warn({ retryAfterMs }, 'provider rate-limited status checks; slowing down');
    } else {
      await this.budget.recover(answeredAt, statusChecks);
    }
    return answer;
  }

  /**
   * Refused checks of this process come back one token apart from `retryAt` on, rather than all
   * at the next token: otherwise every waiting check is claimed, refused and rescheduled again
   * at each token, work that grows with the square of the queue and kept the event loop from
   * its sockets for seconds.
   */
  private refused(retryAt: number, tokenMs: number): StatusCheckAnswer {
    const slot = Math.max(retryAt, this.nextRetrySlot);
    this.nextRetrySlot = slot + tokenMs;
    return { kind: 'refused', retryAt: Math.ceil(slot) };
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
