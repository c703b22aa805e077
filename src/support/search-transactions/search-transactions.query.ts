import type { SearchSummariesQuery } from '../../transactions/read-model.port';

export class SearchTransactionsQuery {
  constructor(readonly search: SearchSummariesQuery) {}
}
