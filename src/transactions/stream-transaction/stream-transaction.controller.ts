import { Controller, Get, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ProblemException } from '../../problem/problem';
import { ReadModel, TransactionSummary } from '../read-model.port';
import { CLIENT_ID_PATTERN } from '../request-transaction/request-transaction.dto';
import { TransactionChanges } from '../transaction-changes';
import { streamNameFor, transactionIdFor } from '../transaction-id';
import { TransactionOutlook } from '../transaction-outlook.port';
import { toTransactionView } from '../transaction.view';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

export const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events: the current state at once, then one `status` event each time the status
 * or stage changes, a `provider` event (data: the notice, or null when normal again) each time
 * the provider's health state changes, a heartbeat comment every 15 s to keep proxies from
 * closing the line, and the end of the stream after the final status.
 */
@ApiTags('transactions')
@ApiBearerAuth()
@Controller('v1/transactions')
@UseGuards(AuthGuard)
export class StreamTransactionController {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly changes: TransactionChanges,
    private readonly config: AppConfig,
    private readonly outlook: TransactionOutlook,
  ) {}

  @Get(':id/stream')
  @ApiOperation({ summary: 'Follow one of your transactions as Server-Sent Events until final' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      'event: status, data: the transaction (JSON), until final; event: provider, data: the ' +
      "provider's notice (JSON, null when normal again)",
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example: 'event: status\nid: 1\ndata: {"id":"order-1001","status":"PENDING"}\n\n',
      },
    },
  })
  @ApiProblems(...CALLER_PROBLEMS, 'notFound')
  async stream(
    @Param('id') clientId: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const notFound = new ProblemException('notFound', {
      detail: `No transaction ${clientId} for this caller`,
    });
    if (!CLIENT_ID_PATTERN.test(clientId)) throw notFound;
    const streamName = streamNameFor(transactionIdFor(principal.subject, clientId));
    // Listen before reading so no change between the read and the subscription is lost.
    const queued: TransactionSummary[] = [];
    let deliver: (summary: TransactionSummary) => void = (summary) => queued.push(summary);
    const unsubscribe = this.changes.subscribe(streamName, (summary) => deliver(summary));

    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    const current = await this.readModel.findSummary(principal.subject, clientId);
    if (!current?.state.exists) {
      unsubscribe();
      throw notFound;
    }

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-request-id': request.id,
    });
    let last: TransactionSummary | null = null;
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const stopNotices = this.outlook.onNoticeChange((notice) => {
      raw.write(`event: provider\ndata: ${JSON.stringify(notice)}\n\n`);
    });
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe();
      stopNotices();
      if (!raw.writableEnded) raw.end();
    };
    deliver = (summary) => {
      if (!summary.state.exists || (last && summary.revision <= last.revision)) return;
      const changed =
        !last?.state.exists ||
        last.state.status !== summary.state.status ||
        last.state.stage !== summary.state.stage;
      last = summary;
      if (changed) {
        const data = JSON.stringify(
          toTransactionView(summary.state, this.outlook.of(summary.state)),
        );
        raw.write(`event: status\nid: ${summary.revision}\ndata: ${data}\n\n`);
      }
      if (summary.state.status !== 'PENDING') close();
    };
    raw.on('close', close);
    deliver(current);
    for (const summary of queued) deliver(summary);
  }
}
