/** The owner's accounts, read from the account read model. */
export class ListAccountsQuery {
  constructor(readonly owner: string) {}
}
