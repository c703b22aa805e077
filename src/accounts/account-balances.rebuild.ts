import type { RecordedEvent } from '../event-store/event-store.port';
import type { RebuildableProjection } from '../projections/projection-rebuild';
import type { CliProjection } from '../projections/projections.cli';
import { asBalanceRows, projectAccountRows } from './account-balances.projection';
import {
  ACCOUNT_BALANCES_PROJECTION,
  AccountReadModel,
  AccountReadModelRow,
} from './account-read-model.port';
import { isAccountStreamEvent } from './account-streams';

/**
 * Pure: the accounts whose row must be read from the copy before applying `events`. Reading
 * `$all` from position 0, an account whose first event here is revision 0 has no row yet, and
 * a cached one needs no read. Entries are only ever added, so none is read.
 */
export function accountsToLoad(
  events: readonly RecordedEvent[],
  cached: ReadonlyMap<string, AccountReadModelRow>,
): string[] {
  const toLoad = new Set<string>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.streamName) || !isAccountStreamEvent(event)) continue;
    seen.add(event.streamName);
    if (event.revision > 0n && !cached.has(event.streamName)) toLoad.add(event.streamName);
  }
  return [...toLoad];
}

/** The balances projection as a rebuild sees it: its fold, and the read model's copy. */
export function rebuildableAccountBalances(
  readModel: AccountReadModel,
): RebuildableProjection<AccountReadModelRow> {
  return {
    name: ACCOUNT_BALANCES_PROJECTION,
    keysToLoad: accountsToLoad,
    fold: projectAccountRows,
    beginCopy: () => readModel.beginRebuild(),
    loadFromCopy: async (streamNames) =>
      asBalanceRows(await readModel.loadRebuildBalances(streamNames)),
    commitToCopy: (rows, checkpoint) => readModel.commitRebuild({ rows, checkpoint }),
    swapCopyIn: () => readModel.finishRebuild(),
    abandonCopy: () => readModel.abandonRebuild(),
  };
}

/** The balances projection's registration with `npm run projections`. */
export const accountBalancesOnStores: CliProjection<{ accountReadModel: AccountReadModel }> = {
  name: ACCOUNT_BALANCES_PROJECTION,
  checkpoint: ({ accountReadModel }) => accountReadModel.checkpoint(),
  rebuild: ({ accountReadModel }) => rebuildableAccountBalances(accountReadModel),
};
