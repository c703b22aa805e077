import type { ExistingTransaction } from './transaction.state';
import type { ProviderNoticeView } from './transaction.view';

/** What a pending transaction's customer is told beyond its stage. */
export interface TransactionOutlookView {
  likelyBy: string | null;
  expectedBy: string | null;
  /** Absent while the provider is normal (or the transaction is final). */
  providerNotice?: ProviderNoticeView;
}

/**
 * When a transaction should be final and what the provider's health means for it. A port: the
 * provider-health feature, which measures the provider from these transactions' events, supplies it.
 */
export abstract class TransactionOutlook {
  abstract of(state: ExistingTransaction): TransactionOutlookView;
  /** Calls `listener` with the new notice each time the provider's health state changes. */
  abstract onNoticeChange(listener: (notice: ProviderNoticeView | null) => void): () => void;
}
