/**
 * The one door to `@eventstore/db-client` 6.2.1, the last release under that name: the adapter
 * imports only from here, so moving to the maintained `@kurrent/kurrentdb-client` (same gRPC
 * protocol) is a change to this file. What would change here when switching:
 *
 * - the import below, and `EventStoreDBClient` becomes `KurrentDBClient`;
 * - `readStream` and `readAll` return async iterators instead of Node streams: the adapter only
 *   consumes them with `for await`, which works with both;
 * - its `readAll` accepts a `filter`, so the adapter's readAll could filter `$all` on the server
 *   instead of reading every event and filtering here (6.2.1's readAll always sends NoFilter);
 * - clientConnectionString may become unnecessary if its parser takes `kurrentdb://` (the .NET
 *   client's does; not checked for Node);
 * - check in its type declarations that the names below still exist, above all
 *   `WrongExpectedVersionError.actualVersion` and `StreamNotFoundError`, which the adapter maps,
 *   and `UnavailableError` / `NotLeaderError`, which it retries while the server is not ready.
 */
export {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  NotLeaderError,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  convertToCommandError,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';
export type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AppendExpectedRevision,
  Filter,
  JSONEventData,
  Position,
  ReadPosition,
  RecordedEvent as ClientRecordedEvent,
} from '@eventstore/db-client';

const KURRENTDB_SCHEME = /^kurrentdb(\+discover)?:\/\//;

/**
 * The configuration accepts `kurrentdb://` as well as `esdb://`; 6.2.1 parses only `esdb://` and
 * `esdb+discover://`, which name the same protocol and options.
 */
export function clientConnectionString(connectionString: string): string {
  return connectionString.replace(KURRENTDB_SCHEME, (_, discover: string | undefined) =>
    discover ? 'esdb+discover://' : 'esdb://',
  );
}
