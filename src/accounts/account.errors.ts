/** Why `decide` refuses an account command; the HTTP layer maps each to a problem type. */

/** A command id (deposit, overdraft change or hold) reused for a command with a different body. */
export class AccountCommandIdReusedError extends Error {
  constructor(
    readonly what: 'Deposit' | 'Overdraft change' | 'Hold',
    readonly id: string,
  ) {
    super(`${what} id ${id} was already used with different details`);
    this.name = 'AccountCommandIdReusedError';
  }
}

/** Amounts and limits are whole minor units a balance can add up without losing precision. */
export class InvalidAmountError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'InvalidAmountError';
  }
}

/** Posting, voiding or reversing a hold never placed on this account (or refused). */
export class HoldNotFoundError extends Error {
  constructor(readonly holdId: string) {
    super(`No hold ${holdId} on this account`);
    this.name = 'HoldNotFoundError';
  }
}

/** A posted hold cannot be voided, nor a voided one posted: money moved, or it was released. */
export class HoldAlreadySettledError extends Error {
  constructor(
    readonly holdId: string,
    readonly settled: 'posted' | 'voided',
  ) {
    super(`Hold ${holdId} was already ${settled}`);
    this.name = 'HoldAlreadySettledError';
  }
}

/** A hold voided as expired before its expiry: only the transaction's failure releases it early. */
export class HoldNotExpiredError extends Error {
  constructor(
    readonly holdId: string,
    readonly expiresAt: string,
  ) {
    super(`Hold ${holdId} does not expire before ${expiresAt}`);
    this.name = 'HoldNotExpiredError';
  }
}

/** Only a settled hold can be reversed; a hold still held is posted or voided instead. */
export class HoldNotSettledError extends Error {
  constructor(readonly holdId: string) {
    super(`Hold ${holdId} is still held: post or void it instead of reversing it`);
    this.name = 'HoldNotSettledError';
  }
}
