import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KILL_SCENARIO_TIMEOUT_MS,
  KillScenario,
  killOneOfTwoInstances,
} from '../support/kill-one-of-two';
import { AUDIT_CLI, runCli } from '../support/cli-process';

/** Two real service processes on the same embedded SQLite files; see killOneOfTwoInstances. */
describe('two instances on one machine, one killed mid-flight', () => {
  let dataDir: string;
  let scenario: KillScenario;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-two-'));
    scenario = await killOneOfTwoInstances({ DATA_DIR: dataDir });
  });

  afterAll(async () => {
    await scenario?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'finishes every transaction on the survivor, with no second POST and no budget overrun',
    () => scenario.run(),
    KILL_SCENARIO_TIMEOUT_MS,
  );

  it('leaves a store whose money and history audit verify proves', async () => {
    const verify = await runCli(AUDIT_CLI, dataDir, ['verify']);
    expect(verify.stdout).toMatch(/0 differences/);
    expect(verify.stdout).toContain('KES: 1 accounts');
    expect(verify.code).toBe(0);
  });
});
