export class ReconciliationQueueQuery {
  constructor(
    readonly limit: number,
    /** Exclusive: only transactions requested after this position. */
    readonly after?: bigint,
  ) {}
}
