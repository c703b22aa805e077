/** A page of one account's statement, newest first. */
export class ListAccountEntriesQuery {
  constructor(
    readonly owner: string,
    readonly currency: string,
    readonly limit: number,
    /** Exclusive: only entries of an earlier revision (the cursor). */
    readonly before?: bigint,
  ) {}
}
