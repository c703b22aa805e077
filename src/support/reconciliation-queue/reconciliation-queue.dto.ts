import { ApiProperty } from '@nestjs/swagger';
import type { QueueReason } from '../../transactions/read-model.port';
import { PageParams } from '../../http/pagination';
import { SupportTransactionView } from '../support-transaction.view';

export class ReconciliationQueueParams extends PageParams {}

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
