import { SettableClock } from '../event-store/event-store.contract';
import { ClockedRateLimitStore } from './clocked-rate-limit-store';

describe('ClockedRateLimitStore', () => {
  const T0 = Date.parse('2026-12-01T10:00:00.000Z');

  function counter(capacity = 10) {
    const clock = new SettableClock(new Date(T0));
    const store = new ClockedRateLimitStore(clock, capacity);
    const count = (key: string) => {
      let answer: { current: number; ttl: number } | undefined;
      store.incr(key, (_error, result) => (answer = result), 1000);
      return answer;
    };
    return { clock, count };
  }

  it('counts per key within a window, by the injected clock, and starts again after it', () => {
    const { clock, count } = counter();
    expect(count('a')).toEqual({ current: 1, ttl: 1000 });
    clock.set(new Date(T0 + 400));
    expect(count('a')).toEqual({ current: 2, ttl: 600 });
    expect(count('b')).toEqual({ current: 1, ttl: 1000 });
    clock.set(new Date(T0 + 1000));
    expect(count('a')).toEqual({ current: 1, ttl: 1000 });
  });

  it('keeps at most its capacity of keys, forgetting the least recently counted', () => {
    const { count } = counter(2);
    count('a');
    count('b');
    count('a');
    count('c');
    expect(count('a')).toMatchObject({ current: 3 });
    expect(count('b')).toMatchObject({ current: 1 });
  });
});
