import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { ProblemException } from '../../problem/problem';
import type { ExistingTransaction } from '../../transactions/transaction.state';
import { TRANSACTION_ID_PATTERN } from '../../transactions/transaction-id';
import { SupportRoutes } from '../support-route.decorator';
import { SupportTransactionView, toSupportTransactionView } from '../support-transaction.view';
import { ResolveTransactionCommand } from './resolve-transaction.command';
import { ResolveTransactionDto } from './resolve-transaction.dto';
import {
  ApiProblems,
  CALLER_PROBLEMS,
  JSON_BODY_PROBLEMS,
} from '../../problem/api-problems.decorator';

@SupportRoutes()
@Controller('v1/support/transactions')
export class ResolveTransactionController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':transactionId/resolution')
  @ApiProblems(
    ...CALLER_PROBLEMS,
    'forbidden',
    ...JSON_BODY_PROBLEMS,
    'notFound',
    'resolutionNotAllowed',
    'conflict',
    'tooManyRequests',
    'unavailable',
  )
  @HttpCode(200)
  @ApiOperation({
    summary: 'Settle a reconciliation case',
    description:
      'Appends ResolvedBySupport (the status, the note, the provider answer if asked, and the ' +
      'support user as actor). Only for a transaction that needs reconciliation: a confirmed ' +
      'status is never overwritten otherwise (409).',
  })
  @ApiOkResponse({ type: SupportTransactionView, description: 'The transaction as resolved' })
  async resolve(
    @Param('transactionId') transactionId: string,
    @Body() body: ResolveTransactionDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<SupportTransactionView> {
    if (!TRANSACTION_ID_PATTERN.test(transactionId)) {
      throw new ProblemException('notFound', { detail: `No transaction ${transactionId}` });
    }
    const resolved = await this.commandBus.execute<ResolveTransactionCommand, ExistingTransaction>(
      new ResolveTransactionCommand(
        transactionId,
        body.status,
        body.note,
        body.checkProviderFirst ?? false,
        {
          correlationId: request.id,
          causationId: request.id,
          actor: `support:${principal.subject}`,
        },
      ),
    );
    return toSupportTransactionView(resolved);
  }
}
