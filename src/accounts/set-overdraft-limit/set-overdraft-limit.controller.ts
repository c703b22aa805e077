import { Body, Controller, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthGuard, CurrentPrincipal, RequireRoles, RolesGuard } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { AccountParams } from '../account-params';
import { AccountBalancesView, toAccountBalancesView } from '../account.view';
import { SetOverdraftLimitCommand } from './set-overdraft-limit.command';
import { SetOverdraftLimitDto } from './set-overdraft-limit.dto';
import type { SetOverdraftLimitResult } from './set-overdraft-limit.handler';
import { IDEMPOTENT_REPLAYED } from '../../http/api-headers';
import {
  ApiProblems,
  CALLER_PROBLEMS,
  JSON_BODY_PROBLEMS,
} from '../../problem/api-problems.decorator';

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts')
@UseGuards(AuthGuard, RolesGuard)
@RequireRoles('operator')
export class SetOverdraftLimitController {
  constructor(private readonly commandBus: CommandBus) {}

  @Put(':owner/:currency/overdraft')
  @ApiProblems(
    ...CALLER_PROBLEMS,
    'forbidden',
    ...JSON_BODY_PROBLEMS,
    'accountIdReused',
    'conflict',
  )
  @ApiOperation({
    summary: "Set an account's overdraft limit (operator)",
    description:
      "Sets how far below zero the owner's available balance in that currency may go, opening " +
      'the account if needed. changeId is the idempotency key: the same changeId and limit ' +
      'replay (200, Idempotent-Replayed: true); the same changeId with another limit is 422.',
  })
  @ApiOkResponse({
    type: AccountBalancesView,
    description: 'The account after the change',
    headers: { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED },
  })
  async set(
    @Param() { owner, currency }: AccountParams,
    @Body() body: SetOverdraftLimitDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AccountBalancesView> {
    const { account, replayed } = await this.commandBus.execute<
      SetOverdraftLimitCommand,
      SetOverdraftLimitResult
    >(
      new SetOverdraftLimitCommand(body.changeId, owner, currency, body.limit, {
        correlationId: request.id,
        causationId: request.id,
        actor: `operator:${principal.subject}`,
      }),
    );
    if (replayed) void reply.header('Idempotent-Replayed', 'true');
    return toAccountBalancesView(account);
  }
}
