import type { CausationContext } from '../transaction-streams';
import type { TransactionRequest } from '../transaction.events';

export class RequestTransactionCommand {
  constructor(
    readonly owner: string,
    readonly clientId: string,
    readonly request: TransactionRequest,
    readonly context: CausationContext,
  ) {}
}
