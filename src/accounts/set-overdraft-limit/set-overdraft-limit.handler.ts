import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '../../shared/clock';
import { AccountStreams } from '../account-streams';
import type { OpenAccount } from '../account.state';
import { SetOverdraftLimitCommand } from './set-overdraft-limit.command';

export interface SetOverdraftLimitResult {
  account: OpenAccount;
  /** True when the account already had this change: nothing was appended. */
  replayed: boolean;
}

@CommandHandler(SetOverdraftLimitCommand)
export class SetOverdraftLimitHandler implements ICommandHandler<
  SetOverdraftLimitCommand,
  SetOverdraftLimitResult
> {
  constructor(
    private readonly streams: AccountStreams,
    private readonly clock: Clock,
  ) {}

  async execute(command: SetOverdraftLimitCommand): Promise<SetOverdraftLimitResult> {
    const { changeId, owner, currency, limit, context } = command;
    const { state, events } = await this.streams.handle(
      {
        type: 'SetOverdraftLimit',
        owner,
        currency,
        changeId,
        limit,
        at: this.clock.now().toISOString(),
      },
      context,
    );
    if (!state.opened) throw new Error('SetOverdraftLimit left the account unopened');
    return { account: state, replayed: events.length === 0 };
  }
}
