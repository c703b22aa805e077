import { Module } from '@nestjs/common';
import { TransactionChanges } from '../transactions/transaction-changes';
import { TransactionSummaryProjection } from '../transactions/transaction-summary.projection';
import { ProjectionsService } from './projections.service';

@Module({
  providers: [TransactionSummaryProjection, ProjectionsService, TransactionChanges],
  exports: [ProjectionsService, TransactionChanges],
})
export class ProjectionsModule {}
