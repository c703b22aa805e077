import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { IsPlainText } from '../../http/free-text';
import { FINAL_STATUSES } from '../../transactions/transaction-names';
export const MAX_RESOLUTION_NOTE_LENGTH = 500;

export class ResolveTransactionDto {
  @ApiProperty({ enum: FINAL_STATUSES, description: 'The status support decides on' })
  @IsIn(FINAL_STATUSES)
  status!: (typeof FINAL_STATUSES)[number];

  @ApiProperty({
    minLength: 1,
    maxLength: MAX_RESOLUTION_NOTE_LENGTH,
    description: 'Why; kept in the ResolvedBySupport event',
  })
  @IsString()
  @Length(1, MAX_RESOLUTION_NOTE_LENGTH)
  @IsPlainText()
  note!: string;

  @ApiPropertyOptional({
    default: false,
    description:
      'Ask the provider for its status first (one check from the shared budget); its answer is kept in the event',
  })
  @IsOptional()
  @IsBoolean()
  checkProviderFirst?: boolean;
}
