import fc from 'fast-check';
import {
  EventData,
  NewEvent,
  WrongExpectedRevisionError,
  revisionMatches,
} from '../event-store.port';
import { chainHash } from '../hash-chain';
import type { ClientRecordedEvent, JSONEventData, Position } from './eventstoredb-client';
import {
  afterConcurrentAppend,
  chainEvents,
  expectedRevisionAfter,
  headOf,
  prepareEvent,
  toRecordedEvent,
} from './eventstoredb-events';
import { encodePosition } from './eventstoredb-positions';

const RECORDED_AT = '2031-02-03T04:05:06.789Z';

function newEvent(data: EventData = { n: 1 }, type = 'SomethingHappened'): NewEvent {
  return {
    id: `00000000-0000-4000-8000-${Math.floor(Math.random() * 1e12)
      .toString()
      .padStart(12, '0')}`,
    type,
    data,
    metadata: { correlationId: 'corr', causationId: 'cause', actor: 'test', schemaVersion: 1 },
  };
}

/** What the server hands back for a sent event: the client's JSON, parsed again on reading. */
function asRead(
  sent: JSONEventData,
  streamId: string,
  revision: bigint,
  position: Position | undefined = { commit: 1000n + revision, prepare: 1000n + revision },
): ClientRecordedEvent {
  return {
    streamId,
    id: sent.id,
    isJson: true,
    revision,
    type: sent.type,
    created: new Date(0),
    data: JSON.parse(JSON.stringify(sent.data)),
    metadata: JSON.parse(JSON.stringify(sent.metadata)),
    position,
  };
}

/** Appends `events` after the given stored ones and reads them all back, as the server would. */
function appendAndRead(streamName: string, stored: ClientRecordedEvent[], events: NewEvent[]) {
  const last = stored[stored.length - 1];
  const head = last === undefined ? undefined : headOf(last);
  const sent = chainEvents(
    streamName,
    head,
    events.map((event) => prepareEvent(event, RECORDED_AT)),
  );
  const first = BigInt(stored.length);
  return [...stored, ...sent.map((event, i) => asRead(event, streamName, first + BigInt(i)))];
}

describe('EventStoreDB events', () => {
  describe('prepareEvent', () => {
    it('adds recordedAt and keeps exactly what JSON keeps', () => {
      const event = newEvent({
        amount: 1250,
        at: new Date('2031-01-01T00:00:00.000Z'),
        gone: undefined,
        note: 'café ☕',
      });

      const prepared = prepareEvent(event, RECORDED_AT);

      expect(prepared).toEqual({
        id: event.id,
        type: event.type,
        data: { amount: 1250, at: '2031-01-01T00:00:00.000Z', note: 'café ☕' },
        metadata: { ...event.metadata, recordedAt: RECORDED_AT },
      });
      expect('gone' in prepared.data).toBe(false);
    });

    it('takes the id in lower case, as the server returns it', () => {
      const event = { ...newEvent(), id: 'A1B2C3D4-0000-4000-8000-00000000000F' };

      expect(prepareEvent(event, RECORDED_AT).id).toBe('a1b2c3d4-0000-4000-8000-00000000000f');
    });
  });

  describe('chainEvents', () => {
    it('starts a new stream at revision 0 with no previous hash', () => {
      const event = prepareEvent(newEvent(), RECORDED_AT);

      const [sent] = chainEvents('s', undefined, [event]);

      expect(sent).toMatchObject({
        id: event.id,
        contentType: 'application/json',
        type: event.type,
        data: event.data,
        metadata: { ...event.metadata, previousHash: null },
      });
      expect(sent.metadata).toMatchObject({
        hash: chainHash({ ...event, streamName: 's', revision: 0n, previousHash: null }),
      });
    });

    it('continues after the head: next revision, chained to its hash', () => {
      const [first, second] = [newEvent(), newEvent()].map((e) => prepareEvent(e, RECORDED_AT));

      const sent = chainEvents('s', { revision: 4n, hash: 'head-hash' }, [first, second]);

      const firstHash = chainHash({
        ...first,
        streamName: 's',
        revision: 5n,
        previousHash: 'head-hash',
      });
      const secondHash = chainHash({
        ...second,
        streamName: 's',
        revision: 6n,
        previousHash: firstHash,
      });
      expect(sent.map((event) => event.metadata)).toEqual([
        { ...first.metadata, previousHash: 'head-hash', hash: firstHash },
        { ...second.metadata, previousHash: firstHash, hash: secondHash },
      ]);
    });
  });

  describe('toRecordedEvent', () => {
    it('reads back what was appended, with a hash that covers exactly the recorded content', () => {
      const json = fc
        .jsonValue()
        .filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
      fc.assert(
        fc.property(
          fc.array(fc.array(json, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
          (appends) => {
            let stored: ClientRecordedEvent[] = [];
            for (const data of appends) {
              stored = appendAndRead(
                's',
                stored,
                data.map((d) => newEvent(d as EventData)),
              );
            }

            const recorded = stored.map(toRecordedEvent);

            recorded.forEach((event, index) => {
              const { id, streamName, revision, type, data, metadata, previousHash } = event;
              expect(revision).toBe(BigInt(index));
              expect(previousHash).toBe(index === 0 ? null : recorded[index - 1].hash);
              expect(event.hash).toBe(
                chainHash({ id, streamName, revision, type, data, metadata, previousHash }),
              );
              expect(Object.keys(metadata).sort()).toEqual(
                ['actor', 'causationId', 'correlationId', 'recordedAt', 'schemaVersion'].sort(),
              );
            });
          },
        ),
      );
    });

    it('takes the id, stream, type, revision and packed position from the server', () => {
      const [read] = appendAndRead('order-1', [], [newEvent({ n: 1 }, 'Paid')]);
      read.position = { commit: 7n, prepare: 5n };

      expect(toRecordedEvent(read)).toMatchObject({
        id: read.id,
        streamName: 'order-1',
        type: 'Paid',
        data: { n: 1 },
        revision: 0n,
        position: encodePosition({ commit: 7n, prepare: 5n }),
        previousHash: null,
      });
    });

    it('refuses an event whose position the server did not report', () => {
      const [read] = appendAndRead('s', [], [newEvent()]);

      for (const position of [
        undefined,
        { commit: 18446744073709551615n, prepare: 18446744073709551615n },
      ]) {
        expect(() => toRecordedEvent({ ...read, position })).toThrow(/without its \$all position/);
      }
    });

    it('refuses events this store did not write', () => {
      const [read] = appendAndRead('s', [], [newEvent()]);
      const withMetadata = (metadata: unknown) => ({ ...read, metadata }) as ClientRecordedEvent;

      expect(() => toRecordedEvent(withMetadata(undefined))).toThrow(/not written by this/);
      expect(() => toRecordedEvent(withMetadata(new Uint8Array([1])))).toThrow(/not a JSON object/);
      expect(() => toRecordedEvent(withMetadata({ actor: 'x' }))).toThrow(/no hash chain/);
      const { recordedAt: _, ...withoutRecordedAt } = read.metadata as Record<string, unknown>;
      expect(() => toRecordedEvent(withMetadata(withoutRecordedAt))).toThrow(/recordedAt/);
      expect(() => toRecordedEvent({ ...read, data: [1, 2] } as ClientRecordedEvent)).toThrow(
        /data is not a JSON object/,
      );
      expect(() => toRecordedEvent({ ...read, isJson: false, data: new Uint8Array() })).toThrow(
        /data is not a JSON object/,
      );
    });
  });

  describe('headOf', () => {
    it('is the revision and hash of the last event, for chaining the next append', () => {
      const stored = appendAndRead('s', [], [newEvent(), newEvent()]);

      expect(headOf(stored[1])).toEqual({
        revision: 1n,
        hash: toRecordedEvent(stored[1]).hash,
      });
    });
  });

  describe('expectedRevisionAfter', () => {
    it('is no_stream without a head, else exactly the head revision', () => {
      expect(expectedRevisionAfter(undefined)).toBe('no_stream');
      expect(expectedRevisionAfter({ revision: 0n, hash: 'h' })).toBe(0n);
      expect(expectedRevisionAfter({ revision: 41n, hash: 'h' })).toBe(41n);
    });
  });

  describe('revisionMatches', () => {
    it.each([
      ['any', 'no_stream', true],
      ['any', 3n, true],
      ['no_stream', 'no_stream', true],
      ['no_stream', 0n, false],
      ['stream_exists', 'no_stream', false],
      ['stream_exists', 0n, true],
      [2n, 2n, true],
      [2n, 1n, false],
      [0n, 'no_stream', false],
    ] as const)('expected %s, actual %s: %s', (expected, actual, matches) => {
      expect(revisionMatches(expected, actual)).toBe(matches);
    });
  });

  describe('afterConcurrentAppend', () => {
    it('chains again for any and stream_exists: they still hold after the other write', () => {
      expect(afterConcurrentAppend('s', 'any', 3n)).toBe('retry');
      expect(afterConcurrentAppend('s', 'stream_exists', 3n)).toBe('retry');
    });

    it("reports the caller's exact revision or no_stream as wrong, with the server's revision", () => {
      const stale = afterConcurrentAppend('s', 0n, 1n);
      const taken = afterConcurrentAppend('s', 'no_stream', 0n);

      expect(stale).toBeInstanceOf(WrongExpectedRevisionError);
      expect(stale).toMatchObject({ streamName: 's', expected: 0n, actual: 1n });
      expect(taken).toBeInstanceOf(WrongExpectedRevisionError);
      expect(taken).toMatchObject({ streamName: 's', expected: 'no_stream', actual: 0n });
    });
  });
});
