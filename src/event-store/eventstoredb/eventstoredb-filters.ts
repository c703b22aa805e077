import type { AllFilter } from '../event-store.port';
import { eventTypeFilter, type Filter, streamNameFilter } from './eventstoredb-client';

/**
 * Which events of `$all` the port shows. EventStoreDB's own streams and event types (projection
 * links, statistics, stream metadata) start with `$`; they are never the port's events.
 */

export function isSystemEvent(streamName: string, type: string): boolean {
  return streamName.startsWith('$') || type.startsWith('$');
}

/** A list that is present keeps only what it names: an empty list keeps nothing. */
export function keepsInAll(
  filter: AllFilter | undefined,
  streamName: string,
  type: string,
): boolean {
  if (isSystemEvent(streamName, type)) return false;
  const prefixes = filter?.streamNamePrefixes;
  if (prefixes !== undefined && !prefixes.some((prefix) => streamName.startsWith(prefix))) {
    return false;
  }
  const types = filter?.eventTypes;
  return types === undefined || types.includes(type);
}

export function keepsNothing(filter: AllFilter | undefined): boolean {
  return filter?.streamNamePrefixes?.length === 0 || filter?.eventTypes?.length === 0;
}

/**
 * Event types that do not start with `$`. The client's excludeSystemEvents() is `^[^$].*`, which
 * also drops an event whose type is empty; the port keeps it.
 */
const NOT_A_SYSTEM_TYPE = '^(?!\\$)';

/**
 * The server filters a subscription on one dimension only. It gets the stream prefixes if there
 * are any (they also keep out `$` streams), else the event types, else just "no system events";
 * the client still applies keepsInAll to everything, so the server's part only has to let
 * through at least what the port keeps.
 */
export function serverFilter(filter: AllFilter | undefined): Filter {
  const prefixes = filter?.streamNamePrefixes;
  if (prefixes !== undefined && prefixes.length > 0) return streamNameFilter({ prefixes });
  const types = filter?.eventTypes;
  if (types !== undefined && types.length > 0) {
    return eventTypeFilter({ regex: exactTypesRegex(types) });
  }
  return eventTypeFilter({ regex: NOT_A_SYSTEM_TYPE });
}

/** .NET and JavaScript agree on these escapes; a backslash before other punctuation is literal. */
const REGEX_SPECIAL = /[\\^$.|?*+()[\]{}#\s-]/g;

/** Matches exactly the given event types (on the server, also one with a trailing newline). */
export function exactTypesRegex(types: string[]): string {
  return `^(?:${types.map((type) => type.replace(REGEX_SPECIAL, '\\$&')).join('|')})$`;
}
