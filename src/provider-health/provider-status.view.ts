import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProviderNoticeView } from '../transactions/transaction.view';
import {
  PROVIDER_HEALTH_STATES,
  ProviderHealthFigures,
  ProviderHealthState,
} from './provider-health';
import type { ProviderHealthReport } from './provider-health.service';

/** One window's figures, flattened for an app or a dashboard. */
export class ProviderWindowView {
  @ApiProperty({ description: 'Length of the rolling window' })
  windowMs!: number;
  @ApiProperty({ description: 'Submissions that ended in the window, answered or not' })
  submissions!: number;
  @ApiPropertyOptional({ type: Number, nullable: true })
  answerLatencyP50Ms!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true })
  answerLatencyP90Ms!: number | null;
  @ApiProperty({ description: "Share of submissions answered by the provider's 504" })
  gatewayTimeoutShare!: number;
  @ApiProperty({ description: 'Share of submissions we gave up waiting on' })
  ownTimeoutShare!: number;
  @ApiProperty()
  lostAttempts!: number;
  @ApiPropertyOptional({ type: Number, nullable: true })
  webhookDelayP90Ms!: number | null;
  @ApiProperty()
  statusChecks!: number;
  @ApiProperty({ description: 'Status checks the provider answered 429' })
  rateLimitedChecks!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Request to final, p90' })
  timeToFinalP90Ms!: number | null;
}

export class ProviderStatusView {
  @ApiProperty({ enum: PROVIDER_HEALTH_STATES })
  state!: ProviderHealthState;
  @ApiPropertyOptional({
    type: ProviderNoticeView,
    description: 'Present while the provider is not normal: what to tell the customer',
  })
  notice?: ProviderNoticeView;
  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description:
      'How long ago the provider last answered a submission (null: not in the last window)',
  })
  lastAnswerMsAgo!: number | null;
  @ApiProperty({ type: ProviderWindowView, description: 'The short window: it decides the state' })
  recent!: ProviderWindowView;
  @ApiProperty({ type: ProviderWindowView, description: 'The long window: the usual figures' })
  usual!: ProviderWindowView;
}

function toWindowView(figures: ProviderHealthFigures): ProviderWindowView {
  return {
    windowMs: figures.windowMs,
    submissions: figures.submissions,
    answerLatencyP50Ms: figures.answerLatencyMs?.p50 ?? null,
    answerLatencyP90Ms: figures.answerLatencyMs?.p90 ?? null,
    gatewayTimeoutShare: figures.gatewayTimeoutShare,
    ownTimeoutShare: figures.ownTimeoutShare,
    lostAttempts: figures.lostAttempts,
    webhookDelayP90Ms: figures.webhookDelayMs?.p90 ?? null,
    statusChecks: figures.statusChecks,
    rateLimitedChecks: figures.rateLimitedChecks,
    timeToFinalP90Ms: figures.timeToFinalMs.all?.p90 ?? null,
  };
}

export function toProviderStatusView(report: ProviderHealthReport): ProviderStatusView {
  return {
    state: report.state,
    ...(report.notice ? { notice: report.notice } : {}),
    lastAnswerMsAgo: report.lastAnswerMsAgo,
    recent: toWindowView(report.recent),
    usual: toWindowView(report.usual),
  };
}
