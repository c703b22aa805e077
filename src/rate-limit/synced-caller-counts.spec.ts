import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { SettableClock } from '../event-store/event-store.contract';
import { SqliteRateLimitCounters } from './sqlite/sqlite-rate-limit-counters';
import { CallerCountSettings, SyncedCallerCounts } from './synced-caller-counts';

const WINDOW_MS = 1_000;
/** A window's start: windows are multiples of their length. */
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

describe('SyncedCallerCounts', () => {
  let dataDir: string;
  let path: string;
  let clock: SettableClock;
  const stores: SqliteRateLimitCounters[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'synced-counts-'));
    path = join(dataDir, 'rate-limits.sqlite');
    clock = new SettableClock(new Date(T0));
  });

  afterEach(() => {
    stores.splice(0).forEach((store) => store.close());
    rmSync(dataDir, { recursive: true, force: true });
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** One service instance's counts over the shared file. */
  function instance(settings: Partial<CallerCountSettings> = {}) {
    const store = new SqliteRateLimitCounters(path);
    stores.push(store);
    return new SyncedCallerCounts(store, clock, {
      windowMs: WINDOW_MS,
      syncMs: 100,
      capacity: 1_000,
      atLeast: 5,
      ...settings,
    });
  }

  const at = (ms: number) => clock.set(new Date(T0 + ms));
  const current = (counts: SyncedCallerCounts, caller: string) => counts.count(caller).current;

  it('counts per caller in windows of the injected clock, aligned to the window length', () => {
    const counts = instance();
    at(200);
    expect(counts.count('a')).toEqual({ current: 1, ttl: 800 });
    at(600);
    expect(counts.count('a')).toEqual({ current: 2, ttl: 400 });
    expect(counts.count('b')).toEqual({ current: 1, ttl: 400 });
    at(1_000);
    expect(counts.count('a')).toEqual({ current: 1, ttl: 1_000 });
  });

  it('judges a caller by every instance’s counts once both have synced', async () => {
    const first = instance();
    const second = instance();
    for (let i = 0; i < 3; i++) first.count('alice');
    expect(current(second, 'alice')).toBe(1);

    await first.sync();
    await second.sync();
    expect(current(second, 'alice')).toBe(5);
    await second.sync();
    await first.sync();
    expect(current(first, 'alice')).toBe(6);
  });

  it('learns of a caller at the smallest limit through another instance before seeing it', async () => {
    const first = instance();
    const second = instance();
    for (let i = 0; i < 5; i++) first.count('spent');
    for (let i = 0; i < 4; i++) first.count('below');
    await first.sync();
    await second.sync();
    expect(current(second, 'spent')).toBe(6);
    expect(current(second, 'below')).toBe(1);
  });

  it('keeps what is counted while a sync is in flight for the next one', async () => {
    const first = instance();
    const second = instance();
    first.count('alice');
    first.count('alice');
    const syncing = first.sync();
    expect(current(first, 'alice')).toBe(3);
    await syncing;
    expect(current(first, 'alice')).toBe(4);
    await first.sync();
    second.count('alice');
    await second.sync();
    expect(current(second, 'alice')).toBe(6);
  });

  it('sends nothing of a window that has ended', async () => {
    const first = instance();
    const second = instance();
    for (let i = 0; i < 9; i++) first.count('alice');
    at(WINDOW_MS);
    await first.sync();
    await second.sync();
    expect(current(second, 'alice')).toBe(1);
  });

  it('counts locally while the shared counters fail, logs that once, and sends the counts when they answer again', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation();
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation();
    const first = instance();
    const second = instance();
    const otherProcess = new Database(path);
    otherProcess.exec('BEGIN IMMEDIATE');

    first.count('alice');
    await first.sync();
    first.count('alice');
    await first.sync();
    expect(current(first, 'alice')).toBe(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/counting in this instance only/);

    otherProcess.exec('ROLLBACK');
    otherProcess.close();
    await first.sync();
    expect(log).toHaveBeenCalledWith('The shared rate-limit counters answer again');
    second.count('alice');
    await second.sync();
    // The three counted during the outage, and the second instance's one.
    expect(current(second, 'alice')).toBe(5);
  });

  it('keeps at most its capacity of callers, forgetting the least recently counted', () => {
    const counts = instance({ capacity: 2 });
    counts.count('a');
    counts.count('b');
    counts.count('a');
    counts.count('c');
    expect(current(counts, 'a')).toBe(3);
    expect(current(counts, 'b')).toBe(1);
  });

  it('syncs every syncMs once started, and once more when stopped', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const first = instance({ atLeast: 1 });
    const second = instance({ atLeast: 1 });
    first.onApplicationBootstrap();
    first.count('alice');
    await jest.advanceTimersByTimeAsync(100);
    await second.sync();
    expect(current(second, 'alice')).toBe(2);

    first.count('alice');
    await first.onModuleDestroy();
    await second.sync();
    expect(current(second, 'alice')).toBe(4);
    expect(jest.getTimerCount()).toBe(0);
  });
});
