import { Controller, Get, Headers, Param, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { AppConfig } from '../../config/app-config';
import { ProblemException } from '../../problem/problem';
import type { TransactionSummary } from '../read-model.port';
import { etagOf, matchesEtag, preferredWaitSeconds, revisionOfEtag } from '../prefer-wait';
import { CLIENT_ID_PATTERN } from '../request-transaction/request-transaction.dto';
import { TransactionView, toTransactionView } from '../transaction.view';
import { TransactionOutlook } from '../transaction-outlook.port';
import { GetTransactionQuery, WaitCondition } from './get-transaction.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';
import { ETAG, PREFERENCE_APPLIED } from '../../http/api-headers';

@ApiTags('transactions')
@ApiBearerAuth()
@Controller('v1/transactions')
@UseGuards(AuthGuard)
export class GetTransactionController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly config: AppConfig,
    private readonly outlook: TransactionOutlook,
  ) {}

  @Get(':id')
  @ApiOperation({
    summary: 'Read one of your transactions; wait for its end or its next change',
    description:
      'Prefer: wait=N holds the answer until the transaction is final; with If-None-Match, ' +
      'until it changes from that ETag (304 if it has not when the wait ends).',
  })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description:
      'wait=N: hold the answer until the transaction is final (or, with If-None-Match, until it changes) or N seconds pass',
  })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'An ETag from an earlier answer',
  })
  @ApiOkResponse({
    type: TransactionView,
    headers: { ETag: ETAG, 'Preference-Applied': PREFERENCE_APPLIED },
  })
  @ApiNotModifiedResponse({
    description: 'Unchanged since the ETag given (after any wait)',
    headers: { ETag: ETAG },
  })
  @ApiProblems(...CALLER_PROBLEMS, 'notFound')
  async get(
    @Param('id') clientId: string,
    @CurrentPrincipal() principal: Principal,
    @Headers('prefer') prefer: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TransactionView | undefined> {
    const notFound = new ProblemException('notFound', {
      detail: `No transaction ${clientId} for this caller`,
    });
    // An id that could never have been accepted is simply not found.
    if (!CLIENT_ID_PATTERN.test(clientId)) throw notFound;
    const waitSeconds = preferredWaitSeconds(prefer, this.config.maxWaitSeconds);
    const summary = await this.queryBus.execute<GetTransactionQuery, TransactionSummary | null>(
      new GetTransactionQuery(principal.subject, clientId, this.waitFor(waitSeconds, ifNoneMatch)),
    );
    if (!summary?.state.exists) throw notFound;
    const etag = etagOf(summary.revision);
    void reply.header('ETag', etag);
    if (matchesEtag(ifNoneMatch, etag)) {
      void reply.status(304);
      return undefined;
    }
    if (waitSeconds !== null && summary.state.status !== 'PENDING') {
      void reply.header('Preference-Applied', `wait=${waitSeconds}`);
    }
    return toTransactionView(summary.state, this.outlook.of(summary.state));
  }

  private waitFor(
    waitSeconds: number | null,
    ifNoneMatch: string | undefined,
  ): WaitCondition | undefined {
    if (!waitSeconds) return undefined;
    const timeoutMs = waitSeconds * 1000;
    if (ifNoneMatch === undefined) return { until: 'final', timeoutMs };
    const revision = revisionOfEtag(ifNoneMatch);
    return revision === null ? undefined : { until: 'changed', afterRevision: revision, timeoutMs };
  }
}
