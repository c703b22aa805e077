import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
/** What only tests use: suites, contract suites, testcontainers suites, end-to-end suites. */
const TEST_FILE = /\.(spec|contract|containers|e2e)\.(js|d\.ts|js\.map)$/;

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [relative(ROOT, path)];
  });
}

describe('the build output', () => {
  let built: string[];

  beforeAll(() => {
    // `npm test` has just built (pretest); this only builds when run on its own after a change.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    built = filesUnder(DIST);
  }, 300_000);

  it('holds the service', () => {
    expect(built).toContain(join('dist', 'src', 'main.js'));
  });

  it('holds no test suite, contract suite, testcontainers suite or anything from test/', () => {
    expect(
      built.filter((path) => TEST_FILE.test(path) || path.startsWith(join('dist', 'test'))),
    ).toEqual([]);
  });
});
