import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../../config/app-config';
import { SettableClock } from '../../event-store/event-store.contract';
import { EventStore } from '../../event-store/event-store.port';
import { MemoryEventStorage, MemoryEventStore } from '../../event-store/memory/memory-event-store';
import { MemoryWorkStorage, MemoryWorkStore } from '../../process-manager/memory/memory-work-store';
import { WorkQueue } from '../../process-manager/work-queue.port';
import { ProjectionsService } from '../../projections/projections.service';
import { ProviderHealthProjection } from '../../provider-health/provider-health.projection';
import { MemoryReadModel, MemoryReadModelStorage } from '../../read-model/memory/memory-read-model';
import { Clock } from '../../shared/clock';
import { ReadModel, TransactionSummary } from '../../transactions/read-model.port';
import { decide } from '../../transactions/transaction.decider';
import { fold, initialState } from '../../transactions/transaction.state';
import { DASHBOARD_MAX_AGE_MS, DashboardHandler } from './dashboard.handler';
import { DashboardQuery } from './dashboard.query';
import { ReconciliationQueueSampler } from './reconciliation-queue.sampler';

const T0 = Date.parse('2026-12-05T10:00:30.000Z');

/** A pending transaction requested at `requestedAt`, as the summary projection stores it. */
function pending(clientId: string, position: bigint, requestedAt: number): TransactionSummary {
  const state = fold(
    decide(
      {
        type: 'RequestTransaction',
        transactionId: `id-${clientId}`,
        owner: 'alice',
        clientId,
        request: { amount: 500, currency: 'KES', recipient: 'bob', note: null },
        requestedAt: new Date(requestedAt).toISOString(),
      },
      initialState,
    ),
  );
  return {
    streamName: `transaction-alice-${clientId}`,
    owner: 'alice',
    clientId,
    status: 'PENDING',
    requestedPosition: position,
    revision: 0n,
    state,
  };
}

describe('DashboardHandler', () => {
  let clock: SettableClock;
  let readModel: MemoryReadModel;
  let handler: DashboardHandler;
  let config: AppConfig;

  beforeEach(async () => {
    clock = new SettableClock(new Date(T0));
    config = AppConfig.fromEnvironment({});
    readModel = new MemoryReadModel(new MemoryReadModelStorage());
    // Compiled, not initialised: no projection runs, so catching up is immediate.
    const module = await Test.createTestingModule({
      imports: [DiscoveryModule],
      providers: [
        DashboardHandler,
        ProjectionsService,
        ProviderHealthProjection,
        ReconciliationQueueSampler,
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: ReadModel, useValue: readModel },
        { provide: EventStore, useValue: new MemoryEventStore(new MemoryEventStorage(), clock) },
        { provide: WorkQueue, useValue: new MemoryWorkStore(new MemoryWorkStorage()) },
      ],
    }).compile();
    handler = module.get(DashboardHandler);
  });

  const requested = (view: Awaited<ReturnType<DashboardHandler['execute']>>) =>
    view.transactions.perMinute.reduce((sum, minute) => sum + minute.pending, 0);

  it('given a dashboard just computed, when asked again within the second, then the same series come back without reading the new transaction; a second later, it is counted', async () => {
    await readModel.commit('p', { summaries: [pending('a', 1n, T0 - 5_000)], checkpoint: 1n });
    const first = await handler.execute(new DashboardQuery(1));
    expect(requested(first)).toBe(1);

    await readModel.commit('p', { summaries: [pending('b', 2n, T0 - 4_000)], checkpoint: 2n });
    clock.set(new Date(T0 + DASHBOARD_MAX_AGE_MS - 1));
    const again = await handler.execute(new DashboardQuery(1));
    expect(again.transactions).toBe(first.transactions);
    expect(again.provider).toBe(first.provider);

    clock.set(new Date(T0 + DASHBOARD_MAX_AGE_MS));
    const later = await handler.execute(new DashboardQuery(1));
    expect(requested(later)).toBe(2);
    expect(later.to).toBe(new Date(T0 + DASHBOARD_MAX_AGE_MS).toISOString());
  });

  it('given a dashboard of the last hour just computed, when the last 3 hours are asked, then they are computed apart', async () => {
    const hour = await handler.execute(new DashboardQuery(1));
    const threeHours = await handler.execute(new DashboardQuery(3));

    expect(threeHours.transactions).not.toBe(hour.transactions);
    expect(threeHours.transactions.perMinute).toHaveLength(181);
    expect(hour.transactions.perMinute).toHaveLength(61);
  });

  it('given transactions pending longer than the queue allows, when the dashboard is computed, then the queue size counts them', async () => {
    const old = T0 - config.reconciliationPendingAgeMs - 1;
    await readModel.commit('p', {
      summaries: [pending('old-1', 1n, old), pending('old-2', 2n, old), pending('new', 3n, T0)],
      checkpoint: 3n,
    });

    const view = await handler.execute(new DashboardQuery(24));

    expect(view.reconciliationQueue.size).toBe(2);
  });
});
