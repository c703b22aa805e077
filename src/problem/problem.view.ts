import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorView {
  @ApiProperty({ example: 'amount' })
  field!: string;

  @ApiProperty({ example: 'amount must be an integer number of minor units' })
  message!: string;
}

/**
 * RFC 9457 problem details as every error answers: each operation narrows `type` to the values
 * it can send (see ApiProblems).
 */
export class ProblemView {
  @ApiProperty({
    description: 'Stable per kind of error: branch on it',
    example: 'urn:payment-ledger:problem:validation-failed',
  })
  type!: string;

  @ApiProperty({ example: 'The request is not valid' })
  title!: string;

  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 })
  status!: number;

  @ApiPropertyOptional({ example: 'amount must be an integer number of minor units' })
  detail?: string;

  @ApiPropertyOptional({ description: 'The request path', example: '/v1/transactions' })
  instance?: string;

  @ApiPropertyOptional({
    type: [FieldErrorView],
    description: 'validation-failed only: each field refused and why',
  })
  errors?: FieldErrorView[];

  @ApiPropertyOptional({
    description: 'insufficient-funds only: where the FAILED transaction can be read',
    example: '/v1/transactions/order-1002',
  })
  transaction?: string;
}
