/** Why `decide` refuses a command; the HTTP layer maps each to a problem type. */

/** The client reused an idempotency key for a request with a different body. */
export class IdempotencyKeyReusedError extends Error {
  constructor(readonly clientId: string) {
    super(`Transaction id ${clientId} was already used for a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** Support may only settle a case that needs reconciliation; a confirmed status stands. */
export class ResolutionNotAllowedError extends Error {
  constructor(reason = 'Only a transaction that needs reconciliation can be resolved by support') {
    super(reason);
    this.name = 'ResolutionNotAllowedError';
  }
}

/** A command for a transaction that does not exist. */
export class TransactionNotFoundError extends Error {
  constructor() {
    super('No such transaction');
    this.name = 'TransactionNotFoundError';
  }
}
