import type { SearchSummariesQuery } from '../../read-model/read-model.port';

export class SearchTransactionsQuery {
  constructor(readonly search: SearchSummariesQuery) {}
}
