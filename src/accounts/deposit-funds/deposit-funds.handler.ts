import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '../../shared/clock';
import { AccountStreams } from '../account-streams';
import type { OpenAccount } from '../account.state';
import { DepositFundsCommand } from './deposit-funds.command';

export interface DepositFundsResult {
  account: OpenAccount;
  /** True when the account already held this deposit: nothing was appended. */
  replayed: boolean;
}

@CommandHandler(DepositFundsCommand)
export class DepositFundsHandler implements ICommandHandler<
  DepositFundsCommand,
  DepositFundsResult
> {
  constructor(
    private readonly streams: AccountStreams,
    private readonly clock: Clock,
  ) {}

  async execute(command: DepositFundsCommand): Promise<DepositFundsResult> {
    const { depositId, owner, currency, amount, reference, context } = command;
    const { state, events } = await this.streams.handle(
      {
        type: 'Deposit',
        owner,
        currency,
        depositId,
        amount,
        reference,
        at: this.clock.now().toISOString(),
      },
      context,
    );
    if (!state.opened) throw new Error('Deposit left the account unopened');
    return { account: state, replayed: events.length === 0 };
  }
}
