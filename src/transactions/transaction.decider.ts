/**
 * The transaction's functional core: `decide` turns a command and the current state into new
 * events, `evolve` folds one event into the state. Both are pure: no I/O, no clock (times arrive
 * inside commands), so they can be tested given/when/then and replayed by auditors.
 */

export type TransactionStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** Where the transaction is in its life, finer than the status; shown to support. */
export type TransactionStage = 'requested';

export interface TransactionRequest {
  /** Integer minor units of `currency`. */
  amount: number;
  /** ISO 4217 code. */
  currency: string;
  recipient: string;
  note: string | null;
}

export interface TransactionRequested {
  type: 'TransactionRequested';
  data: TransactionRequest & {
    transactionId: string;
    owner: string;
    clientId: string;
    requestedAt: string;
  };
}

export type TransactionEvent = TransactionRequested;
export type TransactionEventType = TransactionEvent['type'];

export interface ExistingTransaction {
  exists: true;
  transactionId: string;
  owner: string;
  clientId: string;
  request: TransactionRequest;
  status: TransactionStatus;
  stage: TransactionStage;
  requestedAt: string;
  updatedAt: string;
}

export type TransactionState = { exists: false } | ExistingTransaction;

export const initialState: TransactionState = { exists: false };

export interface RequestTransaction {
  type: 'RequestTransaction';
  transactionId: string;
  owner: string;
  clientId: string;
  request: TransactionRequest;
  requestedAt: string;
}

export type TransactionCommand = RequestTransaction;

/** The client reused an idempotency key for a request with a different body. */
export class IdempotencyKeyReusedError extends Error {
  constructor(readonly clientId: string) {
    super(`Transaction id ${clientId} was already used for a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

function sameRequest(a: TransactionRequest, b: TransactionRequest): boolean {
  return (
    a.amount === b.amount &&
    a.currency === b.currency &&
    a.recipient === b.recipient &&
    a.note === b.note
  );
}

export function decide(command: TransactionCommand, state: TransactionState): TransactionEvent[] {
  switch (command.type) {
    case 'RequestTransaction': {
      if (state.exists) {
        if (!sameRequest(state.request, command.request)) {
          throw new IdempotencyKeyReusedError(command.clientId);
        }
        return [];
      }
      return [
        {
          type: 'TransactionRequested',
          data: {
            transactionId: command.transactionId,
            owner: command.owner,
            clientId: command.clientId,
            ...command.request,
            requestedAt: command.requestedAt,
          },
        },
      ];
    }
  }
}

export function evolve(state: TransactionState, event: TransactionEvent): TransactionState {
  switch (event.type) {
    case 'TransactionRequested': {
      const { transactionId, owner, clientId, amount, currency, recipient, note, requestedAt } =
        event.data;
      return {
        exists: true,
        transactionId,
        owner,
        clientId,
        request: { amount, currency, recipient, note },
        status: 'PENDING',
        stage: 'requested',
        requestedAt,
        updatedAt: requestedAt,
      };
    }
  }
}

export function fold(events: readonly TransactionEvent[]): TransactionState {
  return events.reduce(evolve, initialState);
}
