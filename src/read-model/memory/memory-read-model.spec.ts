import { describeReadModelContract } from '../../transactions/read-model.contract';
import type { TransactionSummary } from '../../transactions/read-model.port';
import { SUMMARY_PROJECTION } from '../../transactions/transaction-summary.projection';
import { decide } from '../../transactions/transaction.decider';
import { fold } from '../../transactions/transaction.state';
import { MemoryReadModel, MemoryReadModelStorage } from './memory-read-model';

describeReadModelContract('memory', {
  async openEmpty() {
    const storage = new MemoryReadModelStorage();
    return {
      readModel: new MemoryReadModel(storage),
      reopen: async () => new MemoryReadModel(storage),
    };
  },
});

function requestedSummary(clientId: string, position: bigint): TransactionSummary {
  const state = fold(
    decide(
      {
        type: 'RequestTransaction',
        transactionId: `id-${clientId}`,
        owner: 'alice',
        clientId,
        request: { amount: 100, currency: 'KES', recipient: 'bob', note: null },
        requestedAt: '2026-01-01T00:00:00.000Z',
      },
      { exists: false },
    ),
  );
  return {
    streamName: `transaction-${clientId}`,
    owner: 'alice',
    clientId,
    status: 'PENDING',
    requestedPosition: position,
    revision: 0n,
    state,
  };
}

describe('MemoryReadModel', () => {
  it('keeps what it stores apart from what callers pass in and get back', async () => {
    const readModel = new MemoryReadModel(new MemoryReadModelStorage());
    const passed = requestedSummary('c1', 1n);
    const stored = requestedSummary('c1', 1n);
    await readModel.commit(SUMMARY_PROJECTION, { summaries: [passed], checkpoint: 1n });

    passed.status = 'FAILED';
    const found = await readModel.findSummary('alice', 'c1');
    if (!found?.state.exists) throw new Error('the summary was not stored');
    found.state.attempts.push({
      number: 1,
      startedAt: '2026-01-01T00:00:01.000Z',
      outcome: 'lost',
      settledAt: null,
      checks: 0,
    });
    const page = await readModel.listSummaries({ owner: 'alice', limit: 1 });
    page.items[0].status = 'SUCCEEDED';
    (await readModel.loadSummaries([passed.streamName])).get(passed.streamName)!.revision = 9n;

    expect(await readModel.findSummaryByTransactionId('id-c1')).toStrictEqual(stored);
    expect(await readModel.searchSummaries({ limit: 5 })).toStrictEqual({
      items: [stored],
      nextBefore: null,
    });
  });

  it('shares one storage between read models: one closed (a crashed process) loses nothing', async () => {
    const storage = new MemoryReadModelStorage();
    const crashed = new MemoryReadModel(storage);
    const survivor = new MemoryReadModel(storage);
    const summary = requestedSummary('c1', 1n);
    await crashed.commit(SUMMARY_PROJECTION, { summaries: [summary], checkpoint: 1n });

    await crashed.close();

    await expect(crashed.ping()).rejects.toThrow(/closed/);
    await expect(crashed.checkpoint(SUMMARY_PROJECTION)).rejects.toThrow(/closed/);
    expect(await survivor.checkpoint(SUMMARY_PROJECTION)).toBe(1n);
    expect(await survivor.findSummary('alice', 'c1')).toStrictEqual(summary);
  });

  it('swaps a rebuild in for every read model on the storage', async () => {
    const storage = new MemoryReadModelStorage();
    const service = new MemoryReadModel(storage);
    const rebuilder = new MemoryReadModel(storage);
    await service.commit(SUMMARY_PROJECTION, {
      summaries: [requestedSummary('c1', 1n)],
      checkpoint: 1n,
    });
    await rebuilder.beginRebuild(SUMMARY_PROJECTION);
    const rebuilt = [requestedSummary('c1', 1n), requestedSummary('c2', 2n)];
    await rebuilder.commitRebuild(SUMMARY_PROJECTION, { summaries: rebuilt, checkpoint: 2n });

    expect(await rebuilder.finishRebuild(SUMMARY_PROJECTION)).toStrictEqual({
      swapped: true,
      checkpoint: 2n,
    });

    expect(await service.findSummary('alice', 'c2')).toStrictEqual(rebuilt[1]);
    const next = requestedSummary('c3', 3n);
    await service.commit(SUMMARY_PROJECTION, { summaries: [next], checkpoint: 3n });
    expect(await rebuilder.findSummary('alice', 'c3')).toStrictEqual(next);
  });

  it('refuses to go on with a rebuild that another read model replaced with its own', async () => {
    const storage = new MemoryReadModelStorage();
    const first = new MemoryReadModel(storage);
    const second = new MemoryReadModel(storage);
    await first.beginRebuild(SUMMARY_PROJECTION);
    await second.beginRebuild(SUMMARY_PROJECTION);

    await expect(
      first.commitRebuild(SUMMARY_PROJECTION, { summaries: [], checkpoint: 1n }),
    ).rejects.toThrow(/replaced/);
    await expect(second.finishRebuild(SUMMARY_PROJECTION)).resolves.toMatchObject({
      swapped: false,
      rebuildCheckpoint: null,
    });
    await expect(first.finishRebuild(SUMMARY_PROJECTION)).rejects.toThrow(/replaced/);
  });

  it("abandons the rebuild a crashed read model left, and that one's work stops there", async () => {
    const storage = new MemoryReadModelStorage();
    const crashed = new MemoryReadModel(storage);
    const cleaner = new MemoryReadModel(storage);
    await crashed.beginRebuild(SUMMARY_PROJECTION);

    await cleaner.abandonRebuild(SUMMARY_PROJECTION);

    expect(storage.rebuild).toBeNull();
    await expect(
      crashed.commitRebuild(SUMMARY_PROJECTION, { summaries: [], checkpoint: 1n }),
    ).rejects.toThrow(/abandoned/);
  });

  it('rebuilds only the summary projection', async () => {
    const readModel = new MemoryReadModel(new MemoryReadModelStorage());
    await expect(readModel.beginRebuild('process-manager')).rejects.toThrow(/no rebuildable/);
  });

  it('rejects two new streams claiming one owner and client id in one commit', async () => {
    const readModel = new MemoryReadModel(new MemoryReadModelStorage());
    const claimed = requestedSummary('c1', 1n);
    const impostor = { ...requestedSummary('c1', 2n), streamName: 'transaction-impostor' };

    await expect(
      readModel.commit(SUMMARY_PROJECTION, { summaries: [claimed, impostor], checkpoint: 2n }),
    ).rejects.toThrow(/commit rejected/);

    expect(await readModel.checkpoint(SUMMARY_PROJECTION)).toBeNull();
    expect(await readModel.searchSummaries({ limit: 5 })).toStrictEqual({
      items: [],
      nextBefore: null,
    });
  });
});
