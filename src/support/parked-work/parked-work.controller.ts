import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import type { ParkedWork } from '../../process-manager/work-queue.port';
import { ProblemException } from '../../problem/problem';
import { pageSize } from '../../http/pagination';
import { SupportRoutes } from '../support-route.decorator';
import {
  ParkedWorkParams,
  ParkedWorkView,
  RetryParkedWorkParams,
  toParkedWorkView,
} from './parked-work.dto';
import { ParkedWorkQuery } from './parked-work.query';
import { RetryParkedWorkCommand } from './retry-parked-work.command';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

/**
 * Process-manager steps that failed unexpectedly WORKER_MAX_STEP_FAILURES times in a row and were
 * taken out of rotation, so that support sees them instead of a silent retry loop.
 */
@SupportRoutes()
@Controller('v1/support/parked-work')
export class ParkedWorkController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly commandBus: CommandBus,
  ) {}

  @Get()
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed')
  @ApiOperation({ summary: 'Parked process-manager steps, oldest first, with the last error' })
  @ApiOkResponse({ type: [ParkedWorkView] })
  async list(@Query() params: ParkedWorkParams): Promise<ParkedWorkView[]> {
    const parked = await this.queryBus.execute<ParkedWorkQuery, ParkedWork[]>(
      new ParkedWorkQuery(pageSize(params)),
    );
    return parked.map(toParkedWorkView);
  }

  @Post(':transactionId/:kind/retry')
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed', 'notFound')
  @HttpCode(204)
  @ApiOperation({ summary: 'Put a parked step back in rotation, due now' })
  @ApiNoContentResponse({ description: 'The step is due again' })
  async retry(
    @Param() { transactionId, kind }: RetryParkedWorkParams,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    const retried = await this.commandBus.execute<RetryParkedWorkCommand, boolean>(
      new RetryParkedWorkCommand(transactionId, kind, `support:${principal.subject}`),
    );
    if (!retried) {
      throw new ProblemException('notFound', {
        detail: `No parked ${kind} step for transaction ${transactionId}`,
      });
    }
  }
}
