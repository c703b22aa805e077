/** The system accounts' balances per currency, and the proof that each currency sums to zero. */
export class LedgerBalancesQuery {}
