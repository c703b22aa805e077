import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  FundsStatus,
  ReconciliationReason,
  StatusSource,
  TransactionStage,
  TransactionStatus,
} from './transaction.events';
import { TRANSACTION_STAGES, TRANSACTION_STATUSES } from './transaction-names';
import type { TransactionOutlookView } from './transaction-outlook.port';
import type { ExistingTransaction } from './transaction.state';

/** Told to the customer while the provider is not in its normal state. */
export class ProviderNoticeView {
  @ApiProperty({ enum: ['provider_slow', 'provider_degraded', 'provider_outage'] })
  code!: 'provider_slow' | 'provider_degraded' | 'provider_outage';
  @ApiProperty({
    example: 'The payment provider is slower than usual; most payments finish within 4 minutes.',
  })
  message!: string;
}

/** What the API shows of a transaction. */
export class TransactionView {
  @ApiProperty({ description: 'The client-chosen id (the idempotency key)' })
  id!: string;
  @ApiProperty({ enum: TRANSACTION_STATUSES })
  status!: TransactionStatus;
  @ApiProperty({
    description: 'Finer-grained progress, for support',
    enum: TRANSACTION_STAGES,
  })
  stage!: TransactionStage;
  @ApiProperty({ description: 'Integer minor units' })
  amount!: number;
  @ApiProperty({ example: 'KES' })
  currency!: string;
  @ApiProperty()
  recipient!: string;
  @ApiPropertyOptional({ type: String, nullable: true })
  note!: string | null;
  @ApiProperty({ description: 'Submission attempts made to the provider' })
  attempts!: number;
  @ApiProperty({ description: 'Status checks made with the provider' })
  statusChecks!: number;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    // OpenAPI 3.0: a nullable enum lists null among its values.
    enum: ['submission', 'webhook', 'status_check', 'process_manager', 'support', 'ledger', null],
    description: 'Which source told us the final status',
  })
  finalStatusSource!: StatusSource | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'declined' })
  failureReason!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  reconciliation!: ReconciliationReason | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    enum: ['held', 'refused', 'captured', 'released', null],
    description:
      "Where the money stands on the owner's account: held before the provider is called, " +
      'refused (insufficient funds), captured when SUCCEEDED, released when FAILED. Null until ' +
      'the hold is recorded (moments after the request), and for transactions made before accounts.',
  })
  funds!: FundsStatus | null;
  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  finalizedAt!: string | null;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'While pending (on GET and the stream): when it most likely is final, the median the ' +
      'provider health measured for its stage. Null once final or with support.',
  })
  likelyBy?: string | null;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'Like likelyBy, the measured p90: nine in ten finish before. Never earlier than the protocol lets it finish.',
  })
  expectedBy?: string | null;
  @ApiPropertyOptional({
    type: ProviderNoticeView,
    description: 'On GET and the stream: present while the provider is not normal',
  })
  providerNotice?: ProviderNoticeView;
}

/** With an outlook (GET and the stream), the expected times and the provider's notice too. */
export function toTransactionView(
  state: ExistingTransaction,
  outlook?: TransactionOutlookView,
): TransactionView {
  return {
    id: state.clientId,
    status: state.status,
    stage: state.stage,
    amount: state.request.amount,
    currency: state.request.currency,
    recipient: state.request.recipient,
    note: state.request.note,
    attempts: state.attempts.length,
    statusChecks: state.statusChecks,
    finalStatusSource: state.finalSource,
    failureReason: state.failureReason,
    reconciliation: state.reconciliation,
    funds: state.funds,
    createdAt: state.requestedAt,
    updatedAt: state.updatedAt,
    finalizedAt: state.finalizedAt,
    ...outlook,
  };
}

export function transactionLocation(clientId: string): string {
  return `/v1/transactions/${encodeURIComponent(clientId)}`;
}
