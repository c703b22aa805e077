import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { SummaryStatistics } from '../../transactions/read-model.port';
import { SupportRoutes } from '../support-route.decorator';
import { SupportStatsQuery } from './support-stats.query';
import { SupportStatsView } from './support-stats.view';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

@SupportRoutes()
@Controller('v1/support/stats')
export class SupportStatsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden')
  @ApiOperation({ summary: 'Counts per status and stage, time to final, checks and attempts' })
  @ApiOkResponse({ type: SupportStatsView })
  stats(): Promise<SupportStatsView> {
    return this.queryBus.execute<SupportStatsQuery, SummaryStatistics>(new SupportStatsQuery());
  }
}
