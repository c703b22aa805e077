import { DepositFundsCommand } from '../accounts/deposit-funds/deposit-funds.command';
import { SetOverdraftLimitCommand } from '../accounts/set-overdraft-limit/set-overdraft-limit.command';
import { Random } from '../shared/random';
import { RequestTransactionCommand } from '../transactions/request-transaction/request-transaction.command';
import { SimulatedNode } from './simulated-node';
import { SimulationTrace } from './simulation-trace';
import { pause } from './virtual-time';
import type { CustomerAction } from './workload';

/** How long a phone waits for an answer before it gives up on that try. */
const ANSWER_TIMEOUT_MS = 10_000;
const MAX_TRIES = 6;

/** A try that got no answer in time (the node died, or was slow). */
const NO_ANSWER = Symbol('no answer');

/**
 * The customers' phones: each action is sent to a live node (a load balancer's pick); on an
 * error or no answer within ten seconds it is tried again, same id and body, after a pause.
 */
export class Customers {
  private sent = 0;

  constructor(
    private readonly liveNode: () => SimulatedNode | null,
    private readonly random: Random,
    private readonly trace: SimulationTrace,
  ) {}

  async perform(action: CustomerAction): Promise<void> {
    const who = `customer:${action.owner}`;
    for (let tryNumber = 1; tryNumber <= MAX_TRIES; tryNumber++) {
      const node = this.liveNode();
      if (node) {
        this.sent += 1;
        const context = {
          correlationId: `req-${this.sent}`,
          causationId: `req-${this.sent}`,
          actor: who,
        };
        try {
          const answer = await Promise.race([this.send(node, action, context), noAnswer()]);
          if (answer !== NO_ANSWER) {
            this.trace.note(action.owner, `${describe(action)} on ${node.name}: ${answer}`);
            return;
          }
          this.trace.note(action.owner, `${describe(action)} on ${node.name}: no answer`);
        } catch (error) {
          this.trace.note(action.owner, `${describe(action)} on ${node.name}: ${String(error)}`);
        }
      }
      await pause(1_000 + Math.floor(this.random.next() * 2 ** tryNumber * 1_000));
    }
    this.trace.note(action.owner, `${describe(action)}: gave up`);
  }

  private async send(
    node: SimulatedNode,
    action: CustomerAction,
    context: { correlationId: string; causationId: string; actor: string },
  ): Promise<string> {
    switch (action.kind) {
      case 'deposit': {
        const { replayed } = await node.deposit.execute(
          new DepositFundsCommand(
            action.depositId,
            action.owner,
            action.currency,
            action.amount,
            'simulated deposit',
            context,
          ),
        );
        return replayed ? 'replayed' : 'deposited';
      }
      case 'overdraft': {
        const { replayed } = await node.setOverdraftLimit.execute(
          new SetOverdraftLimitCommand(
            action.changeId,
            action.owner,
            action.currency,
            action.limit,
            context,
          ),
        );
        return replayed ? 'replayed' : 'limit set';
      }
      case 'request': {
        const { transaction, replayed } = await node.request.execute(
          new RequestTransactionCommand(action.owner, action.clientId, action.request, context),
        );
        return `${replayed ? 'replayed' : 'accepted'} ${transaction.transactionId} ${transaction.status}`;
      }
    }
  }
}

function noAnswer(): Promise<typeof NO_ANSWER> {
  return pause(ANSWER_TIMEOUT_MS).then(() => NO_ANSWER);
}

function describe(action: CustomerAction): string {
  switch (action.kind) {
    case 'deposit':
      return `deposit ${action.amount} ${action.currency}`;
    case 'overdraft':
      return `overdraft limit ${action.limit} ${action.currency}`;
    case 'request':
      return `request ${action.clientId} ${action.request.amount} ${action.request.currency}`;
  }
}
