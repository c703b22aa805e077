import { Body, Controller, Headers, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { AppConfig } from '../../config/app-config';
import { ProblemException } from '../../problem/problem';
import type { TransactionSummary } from '../read-model.port';
import { GetTransactionQuery } from '../get-transaction/get-transaction.query';
import { preferredWaitSeconds } from '../prefer-wait';
import { TransactionView, toTransactionView, transactionLocation } from '../transaction.view';
import { RequestTransactionCommand } from './request-transaction.command';
import { RequestTransactionDto } from './request-transaction.dto';
import type { RequestTransactionResult } from './request-transaction.handler';
import {
  ApiProblems,
  CALLER_PROBLEMS,
  JSON_BODY_PROBLEMS,
} from '../../problem/api-problems.decorator';
import { IDEMPOTENT_REPLAYED, LOCATION, PREFERENCE_APPLIED } from '../../http/api-headers';

/** The IETF draft sends the key as a structured-field string ("..."); a bare token is accepted. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

@ApiTags('transactions')
@ApiBearerAuth()
@Controller('v1/transactions')
@UseGuards(AuthGuard)
export class RequestTransactionController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Request a transaction',
    description:
      'Answers 202 once TransactionRequested is durable. The body id is the idempotency key: ' +
      'the same id and body replay the current state (Idempotent-Replayed: true); the same id ' +
      "with a different body is 422. The amount is held on the owner's account before the " +
      'provider is called; when the available balance does not cover it the answer is 422 ' +
      'insufficient-funds (the transaction is FAILED, and a replay gives the same answer).',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'If sent, must equal id' })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description: 'wait=N: hold the answer until the transaction is final or N seconds pass',
  })
  @ApiAcceptedResponse({
    type: TransactionView,
    description: 'Accepted, or replayed while pending',
    headers: {
      Location: { ...LOCATION, required: true },
      'Idempotent-Replayed': IDEMPOTENT_REPLAYED,
    },
  })
  @ApiOkResponse({
    type: TransactionView,
    description: 'Final already: after Prefer: wait, or replayed after the final status',
    headers: {
      Location: { ...LOCATION, required: true },
      'Idempotent-Replayed': IDEMPOTENT_REPLAYED,
      'Preference-Applied': PREFERENCE_APPLIED,
    },
  })
  @ApiProblems(
    ...CALLER_PROBLEMS,
    ...JSON_BODY_PROBLEMS,
    'idempotencyKeyMismatch',
    'idempotencyKeyReused',
    'insufficientFunds',
    'conflict',
  )
  async request(
    @Body() body: RequestTransactionDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TransactionView> {
    if (idempotencyKey !== undefined && unquote(idempotencyKey) !== body.id) {
      throw new ProblemException('idempotencyKeyMismatch', {
        detail: 'Idempotency-Key must equal the id in the body',
      });
    }
    if (body.amount > this.config.maxAmountMinor) {
      const message = `amount must not exceed ${this.config.maxAmountMinor} minor units`;
      throw new ProblemException('validationFailed', {
        detail: message,
        errors: [{ field: 'amount', message }],
      });
    }
    const result = await this.commandBus.execute<
      RequestTransactionCommand,
      RequestTransactionResult
    >(
      new RequestTransactionCommand(
        principal.subject,
        body.id,
        {
          amount: body.amount,
          currency: body.currency,
          recipient: body.recipient,
          note: body.note ?? null,
        },
        {
          correlationId: request.id,
          causationId: request.id,
          actor: `customer:${principal.subject}`,
        },
      ),
    );
    const location = transactionLocation(body.id);
    let transaction = result.transaction;
    if (transaction.failureReason === 'insufficient_funds') {
      throw new ProblemException(
        'insufficientFunds',
        {
          detail: `Your ${transaction.request.currency} balance does not cover ${transaction.request.amount}; the transaction is FAILED and the provider was not called`,
          transaction: location,
        },
        { Location: location, ...(result.replayed ? { 'Idempotent-Replayed': 'true' } : {}) },
      );
    }
    void reply.header('Location', location);
    if (result.replayed) void reply.header('Idempotent-Replayed', 'true');
    const waitSeconds = preferredWaitSeconds(prefer, this.config.maxWaitSeconds);
    if (waitSeconds && transaction.status === 'PENDING') {
      const summary = await this.queryBus.execute<GetTransactionQuery, TransactionSummary | null>(
        new GetTransactionQuery(principal.subject, body.id, {
          until: 'final',
          timeoutMs: waitSeconds * 1000,
        }),
      );
      if (summary?.state.exists) transaction = summary.state;
    }
    if (transaction.status === 'PENDING') {
      void reply.status(202);
    } else {
      void reply.status(200);
      if (waitSeconds !== null) void reply.header('Preference-Applied', `wait=${waitSeconds}`);
    }
    return toTransactionView(transaction);
  }
}
