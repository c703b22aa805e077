export class GetSupportTransactionQuery {
  constructor(readonly transactionId: string) {}
}
