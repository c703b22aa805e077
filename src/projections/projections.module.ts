import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ProjectionsService } from './projections.service';

/** The projections host: runs the providers that features mark with HostedProjection. */
@Module({
  imports: [DiscoveryModule],
  providers: [ProjectionsService],
  exports: [ProjectionsService],
})
export class ProjectionsModule {}
