import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';

export const REPORTED_STATUSES = ['completed', 'declined', 'pending'] as const;

/** What the reference provider POSTs to the webhook URL. */
export class ProviderReportDto {
  @ApiProperty({ description: 'The id we gave the provider (our internal transaction id)' })
  @IsString()
  @MaxLength(64)
  id!: string;

  @ApiProperty({ enum: REPORTED_STATUSES })
  @IsIn(REPORTED_STATUSES)
  status!: (typeof REPORTED_STATUSES)[number];
}
