import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STAMP, buildIfNeeded, isBuildCurrent, sourceFingerprint } from '../../scripts/build';

const ROOT = join(__dirname, '..', '..');

describe('scripts/build.js', () => {
  let project: string;
  let builds: number;
  let buildSucceeds: boolean;

  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), content);
  };
  /** A stand-in for `nest build`: empties dist/ (deleteOutDir) and writes it again. */
  const build = () => {
    builds += 1;
    rmSync(join(project, 'dist'), { recursive: true, force: true });
    if (buildSucceeds) write('dist/src/main.js', 'built');
    return buildSucceeds;
  };
  const run = (ifStale: boolean) => buildIfNeeded(project, { ifStale, build, log: () => {} });

  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), 'ledger-build-'));
    builds = 0;
    buildSucceeds = true;
    write('src/main.ts', 'main');
    write('src/console/public/index.html', '<html>');
    write('bench/accept.bench.ts', 'bench');
    write('tsconfig.json', '{}');
    write('package-lock.json', '{}');
    write('test/e2e/a.e2e.ts', 'test');
    write('README.md', 'readme');
  });

  afterEach(() => rmSync(project, { recursive: true, force: true }));

  it('fingerprints what the build reads: sources, assets, settings and the lock file', () => {
    const changes: [string, string][] = [
      ['src/main.ts', 'main changed'],
      ['src/new-file.ts', 'new'],
      ['src/console/public/index.html', '<html lang="en">'],
      ['bench/accept.bench.ts', 'bench changed'],
      ['tsconfig.json', '{"compilerOptions":{}}'],
      ['package-lock.json', '{"lockfileVersion":3}'],
    ];
    const changed = changes.filter(([path, content]) => {
      const before = sourceFingerprint(project);
      write(path, content);
      return sourceFingerprint(project) !== before;
    });
    expect(changed.map(([path]) => path)).toEqual(changes.map(([path]) => path));
  });

  it('ignores what the build does not read, and a touch that changes no content', () => {
    const before = sourceFingerprint(project);
    write('test/e2e/a.e2e.ts', 'test changed');
    write('README.md', 'readme changed');
    write('bench/results/run.json', '{}');
    write('dist/src/other.js', 'output');
    utimesSync(join(project, 'src/main.ts'), new Date(0), new Date(0));
    expect(sourceFingerprint(project)).toBe(before);
  });

  it('with --if-stale, builds only when there is no build of the current sources', () => {
    const outcomes = [run(true), run(true)];
    write('src/main.ts', 'main changed');
    outcomes.push(run(true), run(true));
    expect({ outcomes, builds, current: isBuildCurrent(project) }).toEqual({
      outcomes: [true, true, true, true],
      builds: 2,
      current: true,
    });
  });

  it('records no fingerprint after a failed build, so the next run builds again', () => {
    buildSucceeds = false;
    expect(run(true)).toBe(false);
    buildSucceeds = true;
    expect(run(true)).toBe(true);
    expect({ builds, stamp: readFileSync(join(project, STAMP), 'utf8') }).toEqual({
      builds: 2,
      stamp: sourceFingerprint(project),
    });
  });

  it('without --if-stale (npm run build, npm test), always builds', () => {
    run(false);
    run(false);
    expect(builds).toBe(2);
  });
});

describe('package.json scripts', () => {
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  it('run the built output after building only if stale; build and test always build', () => {
    const runners = ['prestart', 'token', 'audit', 'projections', 'provider-sim'].concat(
      Object.keys(scripts).filter((name) => name.startsWith('bench:')),
    );
    expect({
      runners: runners.filter(
        (name) => !scripts[name].startsWith('node scripts/build.js --if-stale'),
      ),
      start: scripts.start,
      build: scripts.build,
      pretest: scripts.pretest,
      nestBuildElsewhere: Object.keys(scripts).filter((name) =>
        /\bnest build\b/.test(scripts[name]),
      ),
    }).toEqual({
      runners: [],
      start: 'node dist/src/main.js',
      build: 'node scripts/build.js',
      pretest: 'node scripts/build.js',
      nestBuildElsewhere: [],
    });
  });
});
