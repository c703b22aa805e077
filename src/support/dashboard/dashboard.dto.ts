import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import {
  PROVIDER_HEALTH_STATES,
  type ProviderHealthState,
} from '../../provider-health/provider-health';
import { ParkedWorkView } from '../parked-work/parked-work.dto';
import { TimeToFinalBucketView } from '../support-stats/support-stats.view';

export const MAX_DASHBOARD_HOURS = 24;
/** The newest transactions of the window the series count at most: one request stays bounded. */
export const MAX_DASHBOARD_TRANSACTIONS = 20_000;
/** Parked steps listed at most. */
export const PARKED_WORK_LISTED = 50;
const DEFAULT_DASHBOARD_HOURS = 1;

export class DashboardParams {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_DASHBOARD_HOURS,
    default: DEFAULT_DASHBOARD_HOURS,
    description: 'How many hours back from now the series go',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_DASHBOARD_HOURS)
  hours?: number;
}

export function dashboardHours(params: DashboardParams): number {
  return params.hours ?? DEFAULT_DASHBOARD_HOURS;
}

export class TransactionsMinuteView {
  @ApiProperty({ description: "The minute's start (ISO 8601)" }) at!: string;
  @ApiProperty() succeeded!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() pending!: number;
}

export class DashboardTransactionsView {
  @ApiProperty({
    type: [TransactionsMinuteView],
    description: 'Transactions requested in each minute of the window, by their status now',
  })
  perMinute!: TransactionsMinuteView[];
  @ApiProperty({
    type: [TimeToFinalBucketView],
    description: 'Request to final status, for the final transactions requested in the window',
  })
  timeToFinal!: TimeToFinalBucketView[];
  @ApiProperty({
    description: `True when more than ${MAX_DASHBOARD_TRANSACTIONS} transactions were requested in the window: the series count the newest ${MAX_DASHBOARD_TRANSACTIONS} only`,
  })
  truncated!: boolean;
}

export class ProviderMinuteView {
  @ApiProperty({ description: "The minute's start (ISO 8601)" }) at!: string;
  @ApiProperty({ description: 'Submissions that ended in the minute, answered or not' })
  submissions!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Answer latency, p90' })
  answerLatencyP90Ms!: number | null;
  @ApiProperty({ description: "Share of the minute's submissions answered by a 504" })
  gatewayTimeoutShare!: number;
  @ApiProperty() statusChecks!: number;
  @ApiProperty({ description: 'Status checks the provider answered 429' })
  rateLimitedChecks!: number;
}

export class DashboardProviderView {
  @ApiProperty({ enum: PROVIDER_HEALTH_STATES }) state!: ProviderHealthState;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'Since when the state holds (ISO 8601); null when it held over all that is kept or shown',
  })
  since!: string | null;
  @ApiProperty({
    description: 'How far back the provider figures go: the long health window',
  })
  keptMs!: number;
  @ApiProperty({ type: [ProviderMinuteView] })
  perMinute!: ProviderMinuteView[];
}

export class QueueSizeView {
  @ApiProperty({ description: 'ISO 8601' }) at!: string;
  @ApiProperty() size!: number;
}

export class DashboardQueueView {
  @ApiProperty({ description: 'Transactions in the reconciliation queue now' }) size!: number;
  @ApiProperty({
    type: [QueueSizeView],
    description:
      "This instance's samples, one a minute since it started, then the size now, oldest first",
  })
  samples!: QueueSizeView[];
}

export class DashboardParkedWorkView {
  @ApiProperty({ description: 'Parked steps listed (at most the limit)' }) count!: number;
  @ApiProperty({ description: 'True when more are parked than listed' }) more!: boolean;
  @ApiProperty({ type: [ParkedWorkView], description: 'Oldest first' })
  items!: ParkedWorkView[];
}

export class DashboardView {
  @ApiProperty({ description: 'Start of the window (ISO 8601)' }) from!: string;
  @ApiProperty({ description: 'End of the window: now (ISO 8601)' }) to!: string;
  @ApiProperty({ description: 'Length of one bucket of the series' }) bucketMs!: number;
  @ApiProperty({ type: DashboardTransactionsView }) transactions!: DashboardTransactionsView;
  @ApiProperty({ type: DashboardProviderView }) provider!: DashboardProviderView;
  @ApiProperty({ type: DashboardQueueView }) reconciliationQueue!: DashboardQueueView;
  @ApiProperty({ type: DashboardParkedWorkView }) parkedWork!: DashboardParkedWorkView;
}
