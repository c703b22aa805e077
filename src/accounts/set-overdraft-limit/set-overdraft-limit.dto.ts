import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { DEPOSIT_ID_PATTERN } from '../deposit-funds/deposit-funds.dto';

export class SetOverdraftLimitDto {
  @ApiProperty({
    description: 'Chosen by the operator; the idempotency key. 1 to 64 of A-Z a-z 0-9 _ -',
    example: 'overdraft-2026-12-05-01',
  })
  @IsString()
  @Matches(DEPOSIT_ID_PATTERN, {
    message: 'changeId must be 1 to 64 characters of A-Z a-z 0-9 _ -',
  })
  changeId!: string;

  @ApiProperty({
    description: 'How far below zero available may go, in minor units (0: not at all)',
    example: 5000,
  })
  @IsInt({ message: 'limit must be an integer number of minor units' })
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  limit!: number;
}
