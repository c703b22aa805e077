import type { CausationContext } from '../../transactions/transaction-streams';

export class ResolveTransactionCommand {
  constructor(
    readonly transactionId: string,
    readonly status: 'SUCCEEDED' | 'FAILED',
    readonly note: string,
    readonly checkProviderFirst: boolean,
    readonly context: CausationContext,
  ) {}
}
