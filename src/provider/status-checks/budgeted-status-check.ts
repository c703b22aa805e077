import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { PaymentProvider } from '../payment-provider.port';
import { StatusCheckAnswer, interpretProviderCheck } from './status-check-answer';
import { BudgetDecision, StatusCheckBudget } from './status-check-budget.port';

/**
 * Every status check the service sends goes through here, whoever asks (the process manager,
 * support): take a token from the budget every instance shares, ask the provider, then slow the
 * budget down on a 429 or let it recover on any other answer.
 */
@Injectable()
export class BudgetedStatusCheck {
  private readonly logger = new Logger('StatusChecks');

  constructor(
    private readonly provider: PaymentProvider,
    private readonly budget: StatusCheckBudget,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async check(providerId: string): Promise<StatusCheckAnswer> {
    const decision = await this.take();
    if (!decision.granted) return { kind: 'refused', retryAt: decision.retryAt };
    return this.checkWithToken(providerId);
  }

  /**
   * Takes one check from the shared budget, for a caller that then asks with checkWithToken (the
   * process manager takes the token before it claims a status check, so that a backlog of checks
   * is never claimed only to be refused).
   */
  take(): Promise<BudgetDecision> {
    return this.budget.take(this.now(), this.config.provider.statusChecks);
  }

  /** Asks the provider with a token already taken, then slows the budget down or lets it recover. */
  async checkWithToken(
    providerId: string,
  ): Promise<Exclude<StatusCheckAnswer, { kind: 'refused' }>> {
    const { statusChecks } = this.config.provider;
    const outcome = await this.provider.checkStatus(providerId);
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

  private now(): number {
    return this.clock.now().getTime();
  }
}
