import { ApiProperty } from '@nestjs/swagger';
import {
  IsISO4217CurrencyCode,
  IsInt,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
} from 'class-validator';
import { IsPlainText } from '../../http/free-text';

export const DEPOSIT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_REFERENCE_LENGTH = 140;
/** A token's subject is 1 to 200 characters (token-verifier.ts); the owner is one. */
const MAX_OWNER_LENGTH = 200;

export class DepositFundsDto {
  @ApiProperty({
    description: 'Chosen by the operator; the idempotency key. 1 to 64 of A-Z a-z 0-9 _ -',
    example: 'wire-2026-12-01-0001',
  })
  @IsString()
  @Matches(DEPOSIT_ID_PATTERN, { message: 'id must be 1 to 64 characters of A-Z a-z 0-9 _ -' })
  id!: string;

  @ApiProperty({ description: "The customer: their tokens' subject", example: 'alice' })
  @IsString()
  @Length(1, MAX_OWNER_LENGTH)
  @IsPlainText()
  owner!: string;

  @ApiProperty({ description: 'Positive integer in minor units (cents)', example: 100000 })
  @IsInt({ message: 'amount must be an integer number of minor units' })
  @IsPositive()
  @Max(Number.MAX_SAFE_INTEGER)
  amount!: number;

  @ApiProperty({ description: 'ISO 4217 currency code', example: 'KES' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as KES or USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as KES or USD' })
  currency!: string;

  @ApiProperty({ description: 'Where the money came from', example: 'bank wire 42' })
  @IsString()
  @Length(1, MAX_REFERENCE_LENGTH)
  @IsPlainText()
  reference!: string;
}
