import { EventEmitter } from 'node:events';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
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
 * How many times per short window (or per outage silence, if shorter) the state is re-evaluated
 * with no new event: 3 s with the defaults, well within the minute a customer would wait.
 */
export const REEVALUATIONS_PER_WINDOW = 20;

/**
 * How long (clock time) a report is reused, and the least time between two re-evaluations after
 * projection batches. Each report filters and sorts the window's observations: under sustained
 * load, computing one per transaction read and per batch took a large share of the event loop,
 * while a figure one second old tells a customer the same.
 */
export const REPORT_MAX_AGE_MS = 1_000;

/**
 * The provider's health now, from the projection's observations and the injected clock, and the
 * transactions' outlook that follows from it. Tells listeners when the state changes, checked
 * after every batch the projection applies and on a timer: a state can change with no new event
 * (an outage is a silence; a slow period ages out of the window).
 */
@Injectable()
export class ProviderHealth extends TransactionOutlook implements OnModuleInit, OnModuleDestroy {
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private lastState: ProviderHealthState = 'normal';
  private readonly stopWatching: () => void;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastReport: { at: number; report: ProviderHealthReport } | null = null;
  private lastEvaluatedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly projection: ProviderHealthProjection,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    super();
    this.stopWatching = projection.onApplied(() => {
      if (this.clock.now().getTime() - this.lastEvaluatedAt >= REPORT_MAX_AGE_MS) {
        this.noticeStateChange();
      }
    });
  }

  onModuleInit(): void {
    const { shortWindowMs, thresholds } = this.config.providerHealth;
    const everyMs = Math.min(shortWindowMs, thresholds.outageSilenceMs) / REEVALUATIONS_PER_WINDOW;
    // The global timer, so that fake timers (tests, simulations) drive it with the clock.
    this.timer = setInterval(() => this.noticeStateChange(), Math.ceil(everyMs));
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopWatching();
    if (this.timer) clearInterval(this.timer);
  }

  report(): ProviderHealthReport {
    const now = this.clock.now().getTime();
    const cached = this.lastReport;
    if (cached && now >= cached.at && now - cached.at < REPORT_MAX_AGE_MS) return cached.report;
    const report = this.measure(now);
    this.lastReport = { at: now, report };
    return report;
  }

  private measure(now: number): ProviderHealthReport {
    const { recent, silence, state } = this.stateAt(now);
    const usual = measureProviderHealth(
      this.projection.observations(),
      now,
      this.config.providerHealth.longWindowMs,
    );
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

  /** The short window alone decides the state: cheaper than a report, so the timer uses it. */
  private stateAt(now: number) {
    const { shortWindowMs, thresholds } = this.config.providerHealth;
    const observations = this.projection.observations();
    const recent = measureProviderHealth(observations, now, shortWindowMs);
    const silence = silenceOf(observations, now);
    return { recent, silence, state: providerHealthState(recent, silence, thresholds) };
  }

  private noticeStateChange(): void {
    const now = this.clock.now().getTime();
    this.lastEvaluatedAt = now;
    if (this.stateAt(now).state === this.lastState) return;
    const report = this.measure(now);
    // A change is told with the report that saw it, so readers agree with the push at once.
    this.lastReport = { at: now, report };
    this.lastState = report.state;
    this.changes.emit('notice', report.notice);
  }
}
