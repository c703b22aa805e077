import type { AccountCausation } from '../account-streams';

export class DepositFundsCommand {
  constructor(
    readonly depositId: string,
    readonly owner: string,
    readonly currency: string,
    readonly amount: number,
    readonly reference: string,
    readonly context: AccountCausation,
  ) {}
}
