import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import type { QueueReason } from '../../read-model/read-model.port';
import { MAX_PAGE_SIZE } from '../../transactions/list-transactions/list-transactions.dto';
import { SupportTransactionView } from '../support-transaction.view';

export class ReconciliationQueueParams {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, { message: 'cursor must be a nextCursor value' })
  cursor?: string;
}

export class ReconciliationCaseView extends SupportTransactionView {
  @ApiProperty({
    enum: ['needs_reconciliation', 'pending_too_long'],
    description:
      'needs_reconciliation: the ledger opened a case (see reconciliation); pending_too_long: ' +
      'still PENDING longer than RECONCILIATION_PENDING_AGE_MS',
  })
  reason!: QueueReason;
}

export class ReconciliationQueueView {
  @ApiProperty({ type: [ReconciliationCaseView], description: 'Oldest first' })
  items!: ReconciliationCaseView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}
