/**
 * Just enough of nginx's configuration language for the deploy test: directives and blocks,
 * comments and quotes, the location nginx picks for a URI, and which value of a directive
 * applies in a location (the innermost one that sets it).
 */

export type NginxDirective = { name: string; args: string[]; block: NginxDirective[] | null };

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === '#') {
      const end = text.indexOf('\n', at);
      at = end < 0 ? text.length : end;
    } else if (char === '{' || char === '}' || char === ';') {
      tokens.push(char);
      at += 1;
    } else if (char === '"' || char === "'") {
      const end = text.indexOf(char, at + 1);
      if (end < 0) throw new Error(`nginx config: unterminated quote at offset ${at}`);
      tokens.push(text.slice(at + 1, end));
      at = end + 1;
    } else {
      const word = /^[^\s{};]+/.exec(text.slice(at))![0];
      tokens.push(word);
      at += word.length;
    }
  }
  return tokens;
}

export function parseNginxConfig(text: string): NginxDirective[] {
  const tokens = tokenize(text);
  let at = 0;
  const readBlock = (nested: boolean): NginxDirective[] => {
    const block: NginxDirective[] = [];
    while (at < tokens.length) {
      if (tokens[at] === '}') {
        if (!nested) throw new Error('nginx config: unexpected "}"');
        at += 1;
        return block;
      }
      const words: string[] = [];
      while (at < tokens.length && !['{', '}', ';'].includes(tokens[at])) words.push(tokens[at++]);
      const [name, ...args] = words;
      if (name === undefined)
        throw new Error(`nginx config: expected a directive before "${tokens[at]}"`);
      if (tokens[at] === ';') {
        at += 1;
        block.push({ name, args, block: null });
      } else if (tokens[at] === '{') {
        at += 1;
        block.push({ name, args, block: readBlock(true) });
      } else {
        throw new Error(`nginx config: directive "${name}" is not terminated by ";"`);
      }
    }
    if (nested) throw new Error('nginx config: a block is not closed');
    return block;
  };
  return readBlock(false);
}

export function directivesNamed(block: NginxDirective[], name: string): NginxDirective[] {
  return block.filter((directive) => directive.name === name);
}

export function blockOf(directive: NginxDirective): NginxDirective[] {
  if (!directive.block) throw new Error(`nginx config: "${directive.name}" has no block`);
  return directive.block;
}

/** The location nginx serves `uri` from: exact, then longest prefix unless a regex matches. */
export function locationFor(server: NginxDirective[], uri: string): NginxDirective | null {
  const locations = directivesNamed(server, 'location');
  const modifierOf = (l: NginxDirective) => (l.args.length > 1 ? l.args[0] : '');
  const patternOf = (l: NginxDirective) => l.args[l.args.length - 1];
  const exact = locations.find((l) => modifierOf(l) === '=' && patternOf(l) === uri);
  if (exact) return exact;
  const prefixes = locations
    .filter((l) => ['', '^~'].includes(modifierOf(l)) && uri.startsWith(patternOf(l)))
    .sort((a, b) => patternOf(b).length - patternOf(a).length);
  if (prefixes[0] && modifierOf(prefixes[0]) === '^~') return prefixes[0];
  const regex = locations.find(
    (l) =>
      ['~', '~*'].includes(modifierOf(l)) &&
      new RegExp(patternOf(l), modifierOf(l) === '~*' ? 'i' : '').test(uri),
  );
  return regex ?? prefixes[0] ?? null;
}

/** The arguments of `name` that apply in the innermost block of `scopes` (outermost first). */
export function effectiveArgs(scopes: NginxDirective[][], name: string): string[] | null {
  for (const scope of [...scopes].reverse()) {
    const found = directivesNamed(scope, name);
    if (found.length > 0) return found[found.length - 1].args;
  }
  return null;
}

/** nginx time ("130s", "1h", "500ms", "60") in seconds. */
export function nginxSeconds(value: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h|d)?/g)];
  if (parts.map((p) => p[0]).join('') !== value)
    throw new Error(`nginx time: cannot read "${value}"`);
  return parts.reduce((sum, [, amount, unit = 's']) => sum + Number(amount) * units[unit], 0);
}

/** nginx size ("2m", "16k", "1024") in bytes. */
export function nginxBytes(value: string): number {
  const match = /^(\d+)([kKmMgG]?)$/.exec(value);
  if (!match) throw new Error(`nginx size: cannot read "${value}"`);
  const scales: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  const scale = scales[match[2].toLowerCase()];
  return Number(match[1]) * scale;
}
