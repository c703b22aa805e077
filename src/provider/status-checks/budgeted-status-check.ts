import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { PaymentProvider } from '../payment-provider.port';
import { StatusCheckAnswer, interpretProviderCheck } from './status-check-answer';
import { StatusCheckBudget } from './status-check-budget.port';

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
    const { statusChecks } = this.config.provider;
    const decision = await this.budget.take(this.now(), statusChecks);
    if (!decision.granted) return { kind: 'refused', retryAt: decision.retryAt };

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
