import { RecentRows } from './projection-rebuild';

interface Row {
  key: string;
}

function entry(row: Row): [string, Row] {
  return [row.key, row];
}

describe('RecentRows, the rebuild cache', () => {
  it('keeps the most recently touched rows up to its capacity', () => {
    const rows = ['a', 'b', 'c'].map((key) => ({ key }));
    const recent = new RecentRows<Row>(2);
    expect(recent.touch(rows.slice(0, 2).map(entry))).toStrictEqual([]);
    expect(recent.touch([entry(rows[0])])).toStrictEqual([]);
    expect(recent.touch([entry(rows[2])])).toStrictEqual([rows[1]]);
    expect([...recent.keys()]).toStrictEqual([rows[0].key, rows[2].key]);
  });

  it('hands out each change once: when it leaves the cache, or at a flush', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((key) => ({ key }));
    const recent = new RecentRows<Row>(2);
    recent.touch([entry(a), entry(b)]);
    expect(recent.takeUnwritten()).toStrictEqual([a, b]);
    expect(recent.takeUnwritten()).toStrictEqual([]);

    // Written already and unchanged since: leaving the cache writes nothing.
    expect(recent.touch([entry(c)])).toStrictEqual([]);
    expect(recent.takeUnwritten()).toStrictEqual([c]);
  });
});
