import type { AccountCausation } from '../account-streams';

export class SetOverdraftLimitCommand {
  constructor(
    readonly changeId: string,
    readonly owner: string,
    readonly currency: string,
    readonly limit: number,
    readonly context: AccountCausation,
  ) {}
}
