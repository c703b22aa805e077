import { EventEmitter } from 'node:events';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../shared/clock';
import {
  TransactionOutlook,
  TransactionOutlookView,
} from '../transactions/transaction-outlook.port';
import type { ExistingTransaction } from '../transactions/transaction.state';
import { expectedTime } from './expected-time';
import {
  ProviderHealthFigures,
  ProviderHealthState,
  ProviderNotice,
  measureProviderHealth,
  providerHealthState,
  providerNotice,
  silenceOf,
} from './provider-health';
import { ProviderHealthProjection } from './provider-health.projection';

export interface ProviderHealthReport {
  state: ProviderHealthState;
  notice: ProviderNotice | null;
  /** The short window: it decides the state. */
  recent: ProviderHealthFigures;
  /** The long window: it feeds the expected times and the notice's "most payments". */
  usual: ProviderHealthFigures;
  /** Since when nothing was answered, if the silence is what made it an outage. */
  lastAnswerMsAgo: number | null;
}

/**
 * The provider's health now, from the projection's observations and the injected clock, and the
 * transactions' outlook that follows from it. Tells listeners when the state changes, checked
 * after every batch the projection applies.
 */
@Injectable()
export class ProviderHealth extends TransactionOutlook implements OnModuleDestroy {
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private lastState: ProviderHealthState = 'normal';
  private readonly stopWatching: () => void;

  constructor(
    private readonly projection: ProviderHealthProjection,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    super();
    this.stopWatching = projection.onApplied(() => this.noticeStateChange());
  }

  onModuleDestroy(): void {
    this.stopWatching();
  }

  report(): ProviderHealthReport {
    const now = this.clock.now().getTime();
    const { shortWindowMs, longWindowMs, thresholds } = this.config.providerHealth;
    const observations = this.projection.observations();
    const recent = measureProviderHealth(observations, now, shortWindowMs);
    const usual = measureProviderHealth(observations, now, longWindowMs);
    const silence = silenceOf(observations, now);
    const state = providerHealthState(recent, silence, thresholds);
    return {
      state,
      notice: providerNotice(state, usual.timeToFinalMs.all?.p90 ?? null),
      recent,
      usual,
      lastAnswerMsAgo: silence.sinceLastAnswerMs,
    };
  }

  of(state: ExistingTransaction): TransactionOutlookView {
    const report = this.report();
    const expected = expectedTime(
      state,
      report.usual,
      this.config.provider.policy,
      this.clock.now().getTime(),
    );
    return {
      likelyBy: expected?.likelyBy ?? null,
      expectedBy: expected?.expectedBy ?? null,
      ...(state.status === 'PENDING' && report.notice ? { providerNotice: report.notice } : {}),
    };
  }

  onNoticeChange(listener: (notice: ProviderNotice | null) => void): () => void {
    this.changes.on('notice', listener);
    return () => this.changes.off('notice', listener);
  }

  private noticeStateChange(): void {
    const { state, notice } = this.report();
    if (state === this.lastState) return;
    this.lastState = state;
    this.changes.emit('notice', notice);
  }
}
