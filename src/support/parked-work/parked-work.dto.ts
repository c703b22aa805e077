import { ApiProperty, PickType } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { WORK_KINDS, type ParkedWork, type WorkKind } from '../../process-manager/work-queue.port';
import { PageParams } from '../../http/pagination';
import { TRANSACTION_ID_PATTERN } from '../../transactions/transaction-id';

/** Oldest first and few: one page, no cursor. */
export class ParkedWorkParams extends PickType(PageParams, ['limit'] as const) {}

export class RetryParkedWorkParams {
  @ApiProperty({ description: 'The internal transaction id (a UUID)' })
  @Matches(TRANSACTION_ID_PATTERN, { message: 'transactionId must be a transaction id (UUID)' })
  transactionId!: string;

  @ApiProperty({ enum: WORK_KINDS })
  @IsIn(WORK_KINDS)
  kind!: WorkKind;
}

export class ParkedWorkView {
  @ApiProperty() transactionId!: string;
  @ApiProperty({ enum: WORK_KINDS }) kind!: WorkKind;
  @ApiProperty({ description: 'When it was due when it last failed (ISO 8601)' }) dueAt!: string;
  @ApiProperty({ description: 'When it was parked (ISO 8601)' }) parkedAt!: string;
  @ApiProperty({ description: 'The last error' }) reason!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The step: attempt, check number, delivery, failures so far',
  })
  payload!: Record<string, unknown>;
}

export function toParkedWorkView(item: ParkedWork): ParkedWorkView {
  return {
    transactionId: item.transactionId,
    kind: item.kind,
    dueAt: new Date(item.dueAt).toISOString(),
    parkedAt: new Date(item.parkedAt).toISOString(),
    reason: item.reason,
    payload: item.payload,
  };
}
