/**
 * A Dockerfile read the way docker reads it (the subset Tessera's uses): stages, their
 * instructions with line continuations joined, global ARG defaults substituted into FROM, ENV
 * pairs, COPY flags and sources, exec-form CMD and HEALTHCHECK; plus .dockerignore matching.
 * docker-commands.test.ts replays the stages with these; manifests.test.ts reads the settings.
 */
export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.split('\n');
  const logical: Instruction[] = [];
  let buf = '';
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim().startsWith('#') || !line.trim())) return;
    if (!buf) start = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read '${buf}'`);
    logical.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim().replace(/\s+/g, ' '), line: start });
    buf = '';
  });
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of logical) {
    if (ins.op === 'ARG' && !stages.length) {
      const [k, v] = ins.args.split('=');
      args[k!] = v ?? '';
      continue;
    }
    if (ins.op === 'FROM') {
      const sub = ins.args.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(sub);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ base: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    if (!stages.length) throw new Error(`Dockerfile line ${ins.line}: ${ins.op} before FROM`);
    stages[stages.length - 1]!.instructions.push(ins);
  }
  return { args, stages };
}

/** ENV's `K=V K2="V 2"` (or the legacy `K V`) as pairs. */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!args.includes('=')) {
    const [k, ...rest] = args.split(' ');
    out[k!] = rest.join(' ');
    return out;
  }
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) {
    let v = m[2]!;
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** COPY's flags, sources and destination (shell or JSON form). */
export function parseCopy(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--(\w+)=(\S+)\s+/.exec(rest); m; m = /^--(\w+)=(\S+)\s+/.exec(rest)) {
    flags[m[1]!] = m[2]!;
    rest = rest.slice(m[0].length);
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ');
  return { flags, sources: parts.slice(0, -1), dest: parts[parts.length - 1]! };
}

/** An exec-form command (`["node", "x.js"]`); shell form is refused so the replay runs exactly it. */
export function execForm(args: string, what: string): string[] {
  if (!args.startsWith('[')) throw new Error(`${what} must use the exec form ["cmd", "arg", ...]`);
  return JSON.parse(args) as string[];
}

/** HEALTHCHECK's options and its exec-form command. */
export function parseHealthcheck(args: string): { options: Record<string, string>; command: string[] } {
  const m = /^((?:--\S+=\S+\s+)*)CMD\s+(.*)$/.exec(args);
  if (!m) throw new Error(`HEALTHCHECK must be 'HEALTHCHECK [options] CMD [...]', got ${args}`);
  const options: Record<string, string> = {};
  for (const o of m[1]!.trim().split(/\s+/).filter(Boolean)) {
    const [k, v] = o.slice(2).split('=');
    options[k!] = v!;
  }
  return { options, command: execForm(m[2]!, 'HEALTHCHECK CMD') };
}

/** The final stage's settings: ENV, USER, EXPOSE, VOLUME, CMD, HEALTHCHECK. */
export function finalSettings(stage: Stage) {
  const env: Record<string, string> = {};
  let user: string | undefined;
  let workdir = '/';
  const expose: string[] = [];
  const volumes: string[] = [];
  let cmd: string[] | undefined;
  let healthcheck: ReturnType<typeof parseHealthcheck> | undefined;
  for (const ins of stage.instructions) {
    if (ins.op === 'ENV') Object.assign(env, parseEnv(ins.args));
    else if (ins.op === 'USER') user = ins.args;
    else if (ins.op === 'WORKDIR') workdir = ins.args;
    else if (ins.op === 'EXPOSE') expose.push(...ins.args.split(' '));
    else if (ins.op === 'VOLUME')
      volumes.push(...(ins.args.startsWith('[') ? (JSON.parse(ins.args) as string[]) : ins.args.split(' ')));
    else if (ins.op === 'CMD') cmd = execForm(ins.args, 'CMD');
    else if (ins.op === 'HEALTHCHECK') healthcheck = parseHealthcheck(ins.args);
  }
  return { env, user, workdir, expose, volumes, cmd, healthcheck };
}

/**
 * .dockerignore: patterns relative to the context root (`*` within a segment, `**` across
 * segments, `!` to re-include); a path is excluded when it or a parent folder matches, the last
 * matching pattern deciding.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pat = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = pat
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path: string) => {
    const parts = path.split('/');
    let excluded = false;
    for (const r of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (r.re.test(parts.slice(0, i).join('/'))) {
          excluded = !r.negate;
          break;
        }
      }
    }
    return excluded;
  };
}
