import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { ParkedWork, WorkStore } from '../../process-manager/work-store.port';
import { ParkedWorkQuery } from './parked-work.query';

@QueryHandler(ParkedWorkQuery)
export class ParkedWorkHandler implements IQueryHandler<ParkedWorkQuery, ParkedWork[]> {
  constructor(private readonly workStore: WorkStore) {}

  execute({ limit }: ParkedWorkQuery): Promise<ParkedWork[]> {
    return this.workStore.parkedWork(limit);
  }
}
