import { cpSync, readFileSync } from 'node:fs';
import { posix, relative, sep } from 'node:path';

/**
 * The Docker build context as Docker assembles it from a folder and its `.dockerignore`: the
 * rules of moby's patternmatcher that the deploy test needs. A pattern is a path relative to the
 * context root (a leading `/` is dropped, the path is cleaned); `*` and `?` stay within one path
 * segment, `**` spans any number of segments; a pattern that matches a folder excludes all that it
 * holds; `!` re-includes; the last matching rule decides.
 */

export type IgnoreRule = { exception: boolean; pattern: RegExp; source: string };

export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exception = line.startsWith('!');
      const path = posix.normalize((exception ? line.slice(1) : line).trim()).replace(/^\/+/, '');
      return { exception, pattern: globToRegExp(path), source: line };
    });
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let at = 0; at < glob.length; at += 1) {
    const char = glob[at];
    if (char === '*' && glob[at + 1] === '*') {
      at += 1;
      // `**/` may also match no folder at all.
      if (glob[at + 1] === '/') {
        at += 1;
        source += '(?:.*/)?';
      } else {
        source += '.*';
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const end = glob.indexOf(']', at + 1);
      if (end < 0) throw new Error(`.dockerignore: unterminated "[" in ${glob}`);
      source += `[${glob.slice(at + 1, end).replace(/\\/g, '\\\\')}]`;
      at = end;
    } else if (char === '\\' && at + 1 < glob.length) {
      at += 1;
      source += escapeRegExp(glob[at]);
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The path itself or one of the folders holding it matches. */
function matchesOrParentMatches(rule: IgnoreRule, path: string): boolean {
  const segments = path.split('/');
  return segments.some((_, index) => rule.pattern.test(segments.slice(0, index + 1).join('/')));
}

/** Whether Docker leaves `path` (relative, `/`-separated) out of the build context. */
export function isIgnored(path: string, rules: IgnoreRule[]): boolean {
  let ignored = false;
  for (const rule of rules) {
    if (matchesOrParentMatches(rule, path)) ignored = !rule.exception;
  }
  return ignored;
}

/** Copies `root` to `destination` as the build context Docker would send, and returns its rules. */
export function copyBuildContext(root: string, destination: string): IgnoreRule[] {
  const rules = parseDockerignore(readFileSync(`${root}/.dockerignore`, 'utf8'));
  // Skipping an excluded folder whole is right only while nothing inside it can be re-included.
  const exception = rules.find((rule) => rule.exception);
  if (exception) throw new Error(`copyBuildContext cannot apply "${exception.source}" yet`);
  cpSync(root, destination, {
    recursive: true,
    filter: (source) => {
      const path = relative(root, source).split(sep).join('/');
      return path === '' || !isIgnored(path, rules);
    },
  });
  return rules;
}
