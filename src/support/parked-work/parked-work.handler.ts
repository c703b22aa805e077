import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { ParkedWork, WorkQueue } from '../../process-manager/work-queue.port';
import { ParkedWorkQuery } from './parked-work.query';

@QueryHandler(ParkedWorkQuery)
export class ParkedWorkHandler implements IQueryHandler<ParkedWorkQuery, ParkedWork[]> {
  constructor(private readonly workQueue: WorkQueue) {}

  execute({ limit }: ParkedWorkQuery): Promise<ParkedWork[]> {
    return this.workQueue.parkedWork(limit);
  }
}
