import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthGuard } from '../auth/auth.guard';
import { ApiProblems, CALLER_PROBLEMS } from '../problem/api-problems.decorator';
import { ProjectionsService } from '../projections/projections.service';
import { AppConfig } from '../config/app-config';
import { ProviderHealth } from './provider-health.service';
import { ProviderStatusView, toProviderStatusView } from './provider-status.view';

@ApiTags('provider')
@ApiBearerAuth()
@Controller('v1/provider/status')
@UseGuards(AuthGuard)
export class ProviderStatusController {
  constructor(
    private readonly health: ProviderHealth,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The payment provider's health as the ledger measured it, for a banner before paying",
  })
  @ApiOkResponse({ type: ProviderStatusView })
  @ApiProblems(...CALLER_PROBLEMS)
  async status(): Promise<ProviderStatusView> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return toProviderStatusView(this.health.report());
  }
}
