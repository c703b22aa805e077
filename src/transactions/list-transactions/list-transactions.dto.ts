import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageParams } from '../../http/pagination';
import type { TransactionStatus } from '../transaction.events';
import { TRANSACTION_STATUSES } from '../transaction-names';
import { TransactionView } from '../transaction.view';

export class ListTransactionsParams extends PageParams {
  @ApiPropertyOptional({ enum: TRANSACTION_STATUSES })
  @IsOptional()
  @IsIn(TRANSACTION_STATUSES)
  status?: TransactionStatus;
}

export class TransactionPage {
  @ApiProperty({ type: [TransactionView] })
  items!: TransactionView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}
