import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a feature's Projection provider for the projections host (ProjectionsService), which
 * runs every marked one on each instance that serves queries. A projection that its feature runs
 * itself (the process manager's, under a lease) is not marked.
 */
export const HostedProjection = DiscoveryService.createDecorator<void>();
