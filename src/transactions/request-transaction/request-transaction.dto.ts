import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsISO4217CurrencyCode,
  IsInt,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import { IsPlainText } from '../../http/free-text';

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const RECIPIENT_PATTERN = /^[A-Za-z0-9_.:@+-]{1,128}$/;
export const MAX_NOTE_LENGTH = 140;

export class RequestTransactionDto {
  @ApiProperty({
    description: 'Chosen by the client; also the idempotency key. 1 to 64 of A-Z a-z 0-9 _ -',
    example: 'order-1001',
  })
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: 'id must be 1 to 64 characters of A-Z a-z 0-9 _ -' })
  id!: string;

  @ApiProperty({ description: 'Positive integer in minor units (cents)', example: 2500 })
  @IsInt({ message: 'amount must be an integer number of minor units' })
  @IsPositive()
  amount!: number;

  @ApiProperty({ description: 'ISO 4217 currency code', example: 'KES' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as KES or USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as KES or USD' })
  currency!: string;

  @ApiProperty({ description: 'Recipient wallet, phone or account id', example: '+254700000001' })
  @IsString()
  @Matches(RECIPIENT_PATTERN, {
    message: 'recipient must be 1 to 128 characters of A-Z a-z 0-9 _ . : @ + -',
  })
  recipient!: string;

  @ApiPropertyOptional({ maxLength: MAX_NOTE_LENGTH, example: 'rent' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_NOTE_LENGTH)
  @IsPlainText()
  note?: string;
}
