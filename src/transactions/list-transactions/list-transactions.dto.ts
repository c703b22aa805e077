import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageParams } from '../../http/pagination';
import type { TransactionStatus } from '../transaction.decider';
import { TransactionView } from '../transaction.view';

const STATUSES: TransactionStatus[] = ['PENDING', 'SUCCEEDED', 'FAILED'];

export class ListTransactionsParams extends PageParams {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: TransactionStatus;
}

export class TransactionPage {
  @ApiProperty({ type: [TransactionView] })
  items!: TransactionView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}
