import { ApiProperty } from '@nestjs/swagger';
import { TransactionView } from '../transactions/transaction.view';

export class FinalizedTransactionView extends TransactionView {
  @ApiProperty({ description: 'The subject of the token that requested it', example: 'alice' })
  owner!: string;
}

/** The body of the signed callback the client's backend receives when a transaction is final. */
export class ClientCallbackView {
  @ApiProperty({ enum: ['transaction.finalized'] })
  type!: 'transaction.finalized';

  @ApiProperty({ format: 'date-time', description: 'When it was signed' })
  timestamp!: string;

  @ApiProperty({ type: FinalizedTransactionView })
  data!: FinalizedTransactionView;
}
