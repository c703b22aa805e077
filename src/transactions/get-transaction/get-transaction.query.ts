/** Hold the answer until the transaction is final, or until it changes past a revision. */
export type WaitCondition =
  | { until: 'final'; timeoutMs: number }
  | { until: 'changed'; afterRevision: bigint; timeoutMs: number };

export class GetTransactionQuery {
  constructor(
    readonly owner: string,
    readonly clientId: string,
    readonly wait?: WaitCondition,
  ) {}
}
