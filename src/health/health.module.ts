import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ProcessManagerModule } from '../process-manager/process-manager.module';
import { ProjectionsModule } from '../projections/projections.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ProjectionsModule, ProcessManagerModule],
  controllers: [HealthController],
})
export class HealthModule {}
