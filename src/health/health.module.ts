import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ProcessManagerModule } from '../process-manager/process-manager.module';
import { ProjectionsModule } from '../projections/projections.module';
import { ProviderModule } from '../provider/provider.module';
import { HealthController } from './health.controller';
import { EventLoopMonitor } from './event-loop-monitor';
import { MetricsController } from './metrics.controller';
import { ProjectionMonitor } from './projection-monitor';

@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    ProjectionsModule,
    ProcessManagerModule,
    ProviderModule,
  ],
  controllers: [HealthController, MetricsController],
  providers: [ProjectionMonitor, EventLoopMonitor],
})
export class HealthModule {}
