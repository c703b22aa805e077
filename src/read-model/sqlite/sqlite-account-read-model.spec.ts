import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAccountReadModelContract } from '../../accounts/account-read-model.contract';
import { SqliteAccountReadModel } from './sqlite-account-read-model';

const folders: string[] = [];

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function newPath(): string {
  const folder = mkdtempSync(join(tmpdir(), 'account-read-model-'));
  folders.push(folder);
  return join(folder, 'account-read-model.sqlite');
}

describeAccountReadModelContract('SQLite', {
  async openEmpty() {
    const path = newPath();
    return {
      readModel: new SqliteAccountReadModel({ path }),
      reopen: async () => new SqliteAccountReadModel({ path }),
    };
  },
});

describe('SqliteAccountReadModel', () => {
  it('refuses to open a file of another schema read-only, and empties it when writable', async () => {
    const path = newPath();
    const model = new SqliteAccountReadModel({ path });
    await model.commit({ rows: [], checkpoint: 7n });
    await model.close();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();

    expect(() => new SqliteAccountReadModel({ path, readOnly: true })).toThrow(/schema 99/);
    const reopened = new SqliteAccountReadModel({ path });
    expect(await reopened.checkpoint()).toBeNull();
    await reopened.close();
  });

  it('read-only refuses to write', async () => {
    const path = newPath();
    await new SqliteAccountReadModel({ path }).close();
    const readOnly = new SqliteAccountReadModel({ path, readOnly: true });
    await expect(readOnly.commit({ rows: [], checkpoint: 1n })).rejects.toThrow(/read-only/);
    await readOnly.close();
  });
});
