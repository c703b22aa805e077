import { ApiProperty } from '@nestjs/swagger';
import { IsISO4217CurrencyCode, IsString, Length, Matches } from 'class-validator';
import { IsPlainText } from '../http/free-text';

const CURRENCY_MESSAGE = 'currency must be an ISO 4217 code such as KES or USD';
/** A token's subject is 1 to 200 characters (token-verifier.ts); the owner is one. */
const MAX_OWNER_LENGTH = 200;

/** `{currency}` in a path: an ISO 4217 code, as in every body of the API. */
export class CurrencyParams {
  @ApiProperty({ description: 'ISO 4217 currency code', example: 'KES' })
  @Matches(/^[A-Z]{3}$/, { message: CURRENCY_MESSAGE })
  @IsISO4217CurrencyCode({ message: CURRENCY_MESSAGE })
  currency!: string;
}

/** `{owner}` in a path: the customer, their tokens' subject. */
export class OwnerParams {
  @ApiProperty({ description: "The customer: their tokens' subject", example: 'alice' })
  @IsString()
  @Length(1, MAX_OWNER_LENGTH)
  @IsPlainText()
  owner!: string;
}

/** `{owner}/{currency}` in a path: one account. */
export class AccountParams extends CurrencyParams {
  @ApiProperty({ description: "The customer: their tokens' subject", example: 'alice' })
  @IsString()
  @Length(1, MAX_OWNER_LENGTH)
  @IsPlainText()
  owner!: string;
}
