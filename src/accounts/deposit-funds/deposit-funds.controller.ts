import { Body, Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthGuard, CurrentPrincipal, RequireRoles, RolesGuard } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { AccountBalancesView, toAccountBalancesView } from '../account.view';
import { DepositFundsCommand } from './deposit-funds.command';
import { DepositFundsDto } from './deposit-funds.dto';
import type { DepositFundsResult } from './deposit-funds.handler';
import { IDEMPOTENT_REPLAYED } from '../../http/api-headers';
import {
  ApiProblems,
  CALLER_PROBLEMS,
  JSON_BODY_PROBLEMS,
} from '../../problem/api-problems.decorator';

export class DepositView {
  @ApiProperty({ example: 'wire-2026-12-01-0001' })
  id!: string;

  @ApiProperty({ example: 100000 })
  amount!: number;

  @ApiProperty({ example: 'bank wire 42' })
  reference!: string;

  @ApiProperty({ type: AccountBalancesView, description: 'The account after the deposit' })
  account!: AccountBalancesView;
}

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts/deposits')
@UseGuards(AuthGuard, RolesGuard)
@RequireRoles('operator')
export class DepositFundsController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @ApiProblems(
    ...CALLER_PROBLEMS,
    'forbidden',
    ...JSON_BODY_PROBLEMS,
    'accountIdReused',
    'conflict',
  )
  @ApiOperation({
    summary: 'Deposit money into a customer account (operator)',
    description:
      "Credits the owner's account in that currency, opening it if needed. The body id is the " +
      'idempotency key: the same id and body replay (200, Idempotent-Replayed: true); the same ' +
      'id with a different amount or reference is 422.',
  })
  @ApiCreatedResponse({ type: DepositView, description: 'Deposited' })
  @ApiOkResponse({
    type: DepositView,
    description: 'Replayed: this deposit was already made',
    headers: { 'Idempotent-Replayed': { ...IDEMPOTENT_REPLAYED, required: true } },
  })
  async deposit(
    @Body() body: DepositFundsDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DepositView> {
    const { account, replayed } = await this.commandBus.execute<
      DepositFundsCommand,
      DepositFundsResult
    >(
      new DepositFundsCommand(body.id, body.owner, body.currency, body.amount, body.reference, {
        correlationId: request.id,
        causationId: request.id,
        actor: `operator:${principal.subject}`,
      }),
    );
    void reply.status(replayed ? 200 : 201);
    if (replayed) void reply.header('Idempotent-Replayed', 'true');
    return {
      id: body.id,
      amount: body.amount,
      reference: body.reference,
      account: toAccountBalancesView(account),
    };
  }
}
