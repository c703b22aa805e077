/**
 * A Dockerfile as stages of instructions, for the deploy test: line continuations joined,
 * comments dropped, `${ARG}` references resolved from the stage's ARG defaults.
 */

export type DockerInstruction = { keyword: string; args: string };
export type DockerStage = { base: string; name: string | null; instructions: DockerInstruction[] };

export function parseDockerfile(text: string): DockerStage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile: cannot read "FROM ${args}"`);
      stages.push({ base: from[1], name: from[2] ?? null, instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (!stage) throw new Error(`Dockerfile: "${keyword}" before the first FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages.map((stage) => ({ ...stage, instructions: withArgsResolved(stage.instructions) }));
}

function withArgsResolved(instructions: DockerInstruction[]): DockerInstruction[] {
  const defaults = new Map<string, string>();
  return instructions.map((instruction) => {
    const args = instruction.args.replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (whole, braced?: string, bare?: string) => defaults.get((braced ?? bare)!) ?? whole,
    );
    if (instruction.keyword === 'ARG') {
      const [name, value] = args.split('=', 2);
      if (value !== undefined) defaults.set(name, value.replace(/^"|"$/g, ''));
    }
    return { ...instruction, args };
  });
}

export function instructionsOf(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** `["node", "x.js"]` (exec form) as an argument list; the shell form gives null. */
export function execForm(args: string): string[] | null {
  if (!args.trimStart().startsWith('[')) return null;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`Dockerfile: exec form must be a JSON array of strings: ${args}`);
  }
  return parsed;
}

export type DockerCopy = { from: string | null; sources: string[]; destination: string };

/** A COPY instruction's stage, sources and destination (flags other than --from ignored). */
export function copyOf(instruction: DockerInstruction): DockerCopy {
  const words = instruction.args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length) ?? null;
  const paths = words.filter((word) => !word.startsWith('--'));
  if (paths.length < 2) throw new Error(`Dockerfile: cannot read "COPY ${instruction.args}"`);
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] };
}

/** The variables a stage's ENV instructions set (the `NAME=value` form). */
export function envOf(stage: DockerStage): Record<string, string> {
  const pairs = instructionsOf(stage, 'ENV').flatMap((i) => i.args.split(/\s+/));
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 0) throw new Error(`Dockerfile: ENV without "=" is not read here: ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1).replace(/^"|"$/g, '')];
    }),
  );
}
