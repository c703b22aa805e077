import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import type { RecordedEvent } from '../event-store/event-store.port';
import { EventStore } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SystemClock } from '../shared/clock';
import { HostedProjection } from './hosted-projection';
import type { Projection } from './projection-runner';
import { ProjectionsModule } from './projections.module';
import { ProjectionsService } from './projections.service';

/** Keeps the positions it applied and its checkpoint in memory. */
class MemoryProjection implements Projection {
  readonly applied: bigint[] = [];
  private stored: bigint | null = null;

  constructor(readonly name: string) {}

  async checkpoint(): Promise<bigint | null> {
    return this.stored;
  }

  async apply(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    this.applied.push(...events.map((event) => event.position));
    this.stored = checkpoint;
  }
}

@Injectable()
@HostedProjection()
class HostedMemoryProjection extends MemoryProjection {
  constructor() {
    super('hosted');
  }
}

/** Not marked: a feature runs it itself, as the process manager does its own. */
@Injectable()
class UnhostedMemoryProjection extends MemoryProjection {
  constructor() {
    super('unhosted');
  }
}

/** A feature as the host sees it: a module that provides its projections. */
@Module({
  imports: [ProjectionsModule],
  providers: [HostedMemoryProjection, UnhostedMemoryProjection],
})
class FeatureModule {}

describe('ProjectionsService, the projections host', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'projections-host-'));
    store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), clock: new SystemClock() });
    await store.appendToStream(
      'transaction-1',
      [
        {
          id: randomUUID(),
          type: 'Something',
          data: {},
          metadata: { correlationId: 'c', causationId: 'c', actor: 'test', schemaVersion: 1 },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(role: string) {
    const moduleRef = await Test.createTestingModule({ imports: [FeatureModule] })
      .useMocker((token) => {
        if (token === EventStore) return store;
        if (token === AppConfig) return AppConfig.fromEnvironment({ SERVICE_ROLE: role });
        throw new Error(`unexpected dependency ${String(token)}`);
      })
      .compile();
    const app = await moduleRef.init();
    return { app, host: app.get(ProjectionsService) };
  }

  it('runs the projections features mark HostedProjection, and no other', async () => {
    const { app, host } = await start('api');
    try {
      expect(await host.catchUp(5000)).toBe(true);
      expect(host.status()).toStrictEqual([
        { name: 'hosted', checkpoint: await store.headPosition(), error: null },
      ]);
      expect(app.get(HostedMemoryProjection).applied).toStrictEqual([await store.headPosition()]);
      expect(app.get(UnhostedMemoryProjection).applied).toStrictEqual([]);
    } finally {
      await app.close();
    }
  });

  it('runs none on an instance in the worker role', async () => {
    const { app, host } = await start('worker');
    try {
      expect(host.status()).toStrictEqual([]);
      expect(app.get(HostedMemoryProjection).applied).toStrictEqual([]);
    } finally {
      await app.close();
    }
  });
});
