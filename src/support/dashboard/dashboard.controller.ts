import { Controller, Get, Header, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';
import { SupportRoutes } from '../support-route.decorator';
import { DashboardParams, DashboardView, dashboardHours } from './dashboard.dto';
import { DashboardQuery } from './dashboard.query';

@SupportRoutes()
@Controller('v1/support/dashboard')
export class DashboardController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed')
  @ApiOperation({
    summary:
      "The console dashboard's series per minute: transactions by status, time to final, provider health, the reconciliation queue's size; and the parked work",
  })
  @ApiOkResponse({ type: DashboardView })
  dashboard(@Query() params: DashboardParams): Promise<DashboardView> {
    return this.queryBus.execute<DashboardQuery, DashboardView>(
      new DashboardQuery(dashboardHours(params)),
    );
  }
}
