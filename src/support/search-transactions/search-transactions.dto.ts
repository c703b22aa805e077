import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { PageParams } from '../../http/pagination';
import { CLIENT_ID_PATTERN } from '../../transactions/request-transaction/request-transaction.dto';
import type { TransactionStage, TransactionStatus } from '../../transactions/transaction.events';
import { SupportTransactionView } from '../support-transaction.view';
import { TRANSACTION_ID_PATTERN } from '../../transactions/transaction-id';
import { TRANSACTION_STAGES, TRANSACTION_STATUSES } from '../../transactions/transaction-names';

export class SearchTransactionsParams extends PageParams {
  @ApiPropertyOptional({ enum: TRANSACTION_STATUSES })
  @IsOptional()
  @IsIn(TRANSACTION_STATUSES)
  status?: TransactionStatus;

  @ApiPropertyOptional({ enum: TRANSACTION_STAGES })
  @IsOptional()
  @IsIn(TRANSACTION_STAGES)
  stage?: TransactionStage;

  @ApiPropertyOptional({ description: 'The customer (token subject)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  owner?: string;

  @ApiPropertyOptional({ description: "The client's id (idempotency key), any owner" })
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: 'id must be 1 to 64 characters of A-Z a-z 0-9 _ -' })
  id?: string;

  @ApiPropertyOptional({ description: 'The internal id (UUID)' })
  @IsOptional()
  @Matches(TRANSACTION_ID_PATTERN, { message: 'transactionId must be a lower-case UUID' })
  transactionId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Requested at or after' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Requested before' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class SupportTransactionPage {
  @ApiProperty({ type: [SupportTransactionView] })
  items!: SupportTransactionView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}
