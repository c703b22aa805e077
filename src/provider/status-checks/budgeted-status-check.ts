import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { PaymentProvider } from '../payment-provider.port';
import { StatusCheckAnswer, interpretProviderCheck } from './status-check-answer';
import { BudgetReading, StatusCheckBudget } from './status-check-budget.port';

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
 * The most status checks that can reach the provider in any one second at `ratePerSecond`,
 * whatever our own stalls: the grants of the second, one at its edge, and those of the send window.
 */
export function maxChecksInAnySecond(ratePerSecond: number): number {
  return Math.floor(ratePerSecond) + 1 + SEND_WINDOW_TOKENS;
}

/** A check the shared budget granted: it leaves by `sendBy` or not at all. */
export interface StatusCheckGrant {
  sendBy: number;
}

export type StatusCheckTake =
  { granted: true; grant: StatusCheckGrant } | { granted: false; retryAt: number };

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
    const taken = await this.take();
    if (!taken.granted) return { kind: 'refused', retryAt: taken.retryAt };
    const answer = await this.checkWithGrant(providerId, taken.grant);
    return answer.kind === 'not_sent' ? { kind: 'refused', retryAt: this.now() } : answer;
  }

  /**
   * Takes one check from the shared budget, for a caller that then asks with checkWithGrant (the
   * process manager takes the grant before it claims a status check, so that a backlog of checks
   * is never claimed only to be refused).
   */
  async take(): Promise<StatusCheckTake> {
    const { statusChecks } = this.config.provider;
    const grantedAt = this.now();
    const decision = await this.budget.take(grantedAt, statusChecks);
    if (!decision.granted) return decision;
    const tokenMs = 1000 / statusChecks.ratePerSecond;
    return { granted: true, grant: { sendBy: grantedAt + SEND_WINDOW_TOKENS * tokenMs } };
  }

  /**
   * Asks the provider under a grant already taken, then slows the budget down or lets it recover;
   * `not_sent` if the grant's deadline passed before the request could leave (it is not an
   * answer, so the rate does not recover on it).
   */
  async checkWithGrant(
    providerId: string,
    grant: StatusCheckGrant,
  ): Promise<Exclude<StatusCheckAnswer, { kind: 'refused' }> | { kind: 'not_sent' }> {
    const { statusChecks } = this.config.provider;
    const outcome = await this.provider.checkStatus(providerId, grant.sendBy);
    if (outcome.kind === 'not_sent') {
      this.logger.warn({ providerId }, 'status check not sent: its grant is too old; will retry');
      return outcome;
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

  /** The shared budget as it stands now, under this instance's settings: for operators. */
  budgetState(): Promise<BudgetReading> {
    return this.budget.state(this.now(), this.config.provider.statusChecks);
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
