import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A clone holds everything the README sends a reader to. */

const ROOT = join(__dirname, '..', '..');
const tracked = () =>
  execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);

describe('the README and the docs', () => {
  it('link only to files the repository holds, the design among them', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((match) => match[1])
      .filter((target) => !/^[a-z]+:/.test(target));
    expect(targets).toContain('docs/design.md');
    expect(targets.filter((target) => !existsSync(join(ROOT, target)))).toEqual([]);
  });

  it('point no reader at a folder outside the repository', () => {
    const outside = tracked().filter(
      (file) =>
        existsSync(join(ROOT, file)) &&
        /\.\.\/shared\/[\w-]+\.md|\bshared\/(DESIGN|TOOLCHAIN)\.md/.test(
          readFileSync(join(ROOT, file), 'utf8'),
        ),
    );
    expect(outside).toEqual([]);
  });
});
