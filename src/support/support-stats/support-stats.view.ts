import { ApiProperty } from '@nestjs/swagger';

export class TimeToFinalBucketView {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Exclusive upper bound in seconds; null for the last, open bucket',
  })
  belowSeconds!: number | null;
  @ApiProperty()
  count!: number;
}

class StatusCheckStatsView {
  @ApiProperty()
  total!: number;
  @ApiProperty({ description: 'Per transaction' })
  mean!: number;
  @ApiProperty({ description: 'Most on any one transaction' })
  max!: number;
}

const COUNTS = { type: 'object', additionalProperties: { type: 'number' } } as const;

export class SupportStatsView {
  @ApiProperty()
  transactions!: number;
  @ApiProperty({ ...COUNTS, example: { PENDING: 2, SUCCEEDED: 10, FAILED: 3 } })
  byStatus!: Record<string, number>;
  @ApiProperty({ ...COUNTS, example: { final: 13, checking: 1, needs_reconciliation: 1 } })
  byStage!: Record<string, number>;
  @ApiProperty({
    type: [TimeToFinalBucketView],
    description: 'Request to final status, for transactions with one',
  })
  timeToFinal!: TimeToFinalBucketView[];
  @ApiProperty({ type: StatusCheckStatsView })
  statusChecks!: StatusCheckStatsView;
  @ApiProperty({
    ...COUNTS,
    description: 'Transactions per number of provider submission attempts',
    example: { '1': 14, '2': 1 },
  })
  providerAttempts!: Record<string, number>;
  @ApiProperty({ ...COUNTS, example: { submission: 9, webhook: 3, status_check: 1 } })
  finalStatusSources!: Record<string, number>;
}
