/**
 * The embedded stores' file names in the data folder. Renaming one would leave existing data
 * behind (the specs that check a store's file pin these names for that reason).
 */
export const STORE_FILES = {
  events: 'events.sqlite',
  readModel: 'read-model.sqlite',
  accountReadModel: 'account-read-model.sqlite',
  work: 'work.sqlite',
  rateLimits: 'rate-limits.sqlite',
} as const;
