import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ProviderStatus } from '../transactions/transaction.events';
import type { ExistingTransaction } from '../transactions/transaction.state';
import { TransactionView, toTransactionView } from '../transactions/transaction.view';

/** What support sees: the customer's view plus whose it is and how the provider saw it. */
export class SupportTransactionView extends TransactionView {
  @ApiProperty({ description: 'Internal id: the stream and the id the provider knows' })
  transactionId!: string;
  @ApiProperty({ description: 'The customer (token subject) who requested it' })
  owner!: string;
  @ApiPropertyOptional({ type: String, nullable: true, enum: ['completed', 'declined', null] })
  providerStatus!: ProviderStatus | null;
  @ApiProperty({ description: 'Provider reports that contradicted the confirmed status' })
  conflicts!: number;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the next planned status check is due',
  })
  nextCheckDueAt!: string | null;
}

export function toSupportTransactionView(state: ExistingTransaction): SupportTransactionView {
  return {
    ...toTransactionView(state),
    transactionId: state.transactionId,
    owner: state.owner,
    providerStatus: state.providerStatus,
    conflicts: state.conflicts,
    nextCheckDueAt: state.nextCheck?.dueAt ?? null,
  };
}
