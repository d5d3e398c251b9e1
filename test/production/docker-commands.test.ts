/**
 * The Dockerfile, replayed without a Docker engine: a fresh copy of the repository (tracked and
 * non-ignored files, less .dockerignore) is the build context; each stage gets its own folder as
 * its filesystem root; WORKDIR, ENV, COPY (from the context or an earlier stage) and RUN execute
 * in the Dockerfile's order with the same commands (npm reads its cache first, the registry
 * otherwise). The final stage's CMD then starts the server as an unprivileged user with the
 * image's environment, its HEALTHCHECK command must pass, it must serve the bundled models, hold
 * no dev dependency, and exit 0 on SIGTERM. The image's declared settings are checked too.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SERVE_ENV } from '../../src/cli/commands/serve.js';
import {
  dockerignore,
  finalSettings,
  parseCopy,
  parseDockerfile,
  parseEnv,
  type Stage,
} from './dockerfile.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const final = dockerfile.stages[dockerfile.stages.length - 1]!;
const settings = finalSettings(final);

const work = mkdtempSync(join(tmpdir(), 'tessera-docker-'));
chmodSync(work, 0o755);
after(() => rmSync(work, { recursive: true, force: true }));

/** The build context: `git ls-files` (tracked and untracked-but-not-ignored) less .dockerignore. */
function buildContext(): string {
  const ctx = join(work, 'context');
  const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT })
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    if (ignored(f) || !existsSync(join(ROOT, f))) continue;
    mkdirSync(dirname(join(ctx, f)), { recursive: true });
    cpSync(join(ROOT, f), join(ctx, f));
  }
  return ctx;
}

interface StageState {
  root: string;
  workdir: string;
  env: Record<string, string>;
}

/** Host environment a RUN needs (PATH for node and npm, HOME for npm's cache) plus the stage's ENV. */
function runEnv(stage: StageState): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: 'C.UTF-8',
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
    ...stage.env,
  };
}

const inRoot = (s: StageState, p: string) => join(s.root, isAbsolute(p) ? p : join(s.workdir, p));

function replayStage(stage: Stage, ctx: string, done: Map<string, StageState>): StageState {
  const s: StageState = { root: join(work, 'stages', stage.name), workdir: '/', env: {} };
  mkdirSync(s.root, { recursive: true });
  chmodSync(s.root, 0o755);
  for (const ins of stage.instructions) {
    switch (ins.op) {
      case 'WORKDIR':
        s.workdir = isAbsolute(ins.args) ? ins.args : join(s.workdir, ins.args);
        mkdirSync(inRoot(s, '.'), { recursive: true });
        break;
      case 'ENV':
        Object.assign(s.env, parseEnv(ins.args));
        break;
      case 'COPY': {
        const { flags, sources, dest } = parseCopy(ins.args);
        const from = flags.from ? done.get(flags.from) : undefined;
        if (flags.from && !from) throw new Error(`COPY --from=${flags.from}: no such earlier stage`);
        const target = inRoot(s, dest);
        for (const src of sources) {
          const path = from ? inRoot(from, src) : join(ctx, src);
          assert.ok(existsSync(path), `Dockerfile line ${ins.line}: COPY source ${src} is missing`);
          if (statSync(path).isDirectory()) cpSync(path, target, { recursive: true, verbatimSymlinks: true });
          else {
            const file = dest.endsWith('/') || sources.length > 1 ? join(target, basename(src)) : target;
            mkdirSync(dirname(file), { recursive: true });
            cpSync(path, file);
          }
        }
        break;
      }
      case 'RUN': {
        try {
          execFileSync('/bin/sh', ['-c', ins.args], {
            cwd: inRoot(s, '.'),
            env: runEnv(s),
            stdio: ['ignore', 'pipe', 'pipe'],
            maxBuffer: 64 * 1024 * 1024,
          });
        } catch (e) {
          const x = e as { stdout?: Buffer; stderr?: Buffer };
          throw new Error(
            `stage ${stage.name}, Dockerfile line ${ins.line}: RUN ${ins.args} failed:\n${x.stdout}\n${x.stderr}`.slice(
              0,
              8000,
            ),
          );
        }
        break;
      }
      default:
        // USER, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, CMD: settings, read from finalSettings.
        break;
    }
  }
  return s;
}

/** The image's environment for the process, with absolute paths that exist in the image mapped into its folder. */
function imageEnv(s: StageState, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/nonexistent' };
  for (const [k, v] of Object.entries(s.env))
    env[k] = v.startsWith('/') && existsSync(join(s.root, v)) ? join(s.root, v) : v;
  return { ...env, ...overrides };
}

/** Runs as an unprivileged user when the test runs as root (as the image's USER would); setpriv execs, so signals reach the server. */
function asUser(cmd: string[]): string[] {
  const root = process.getuid?.() === 0;
  return root && existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...cmd]
    : cmd;
}

describe('Dockerfile', () => {
  it('is multi-stage on a slim Node LTS base (the build stage: the same Debian with a compiler) and declares the runtime settings', () => {
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage');
    const debian = new Set<string>();
    for (const st of dockerfile.stages) {
      // The build stage compiles the native GEMM, so it has the full image (g++); every stage whose
      // files reach the final image is slim, and all are the same Node line and Debian release.
      const slim = st.name !== 'build';
      const m = /^node:(\d+)-(\w+)(-slim)?$/.exec(st.base);
      assert.ok(
        m,
        `stage ${st.name} is based on ${st.base}, expected node:<LTS>-<debian>${slim ? '-slim' : ''}`,
      );
      assert.equal(!!m[3], slim, `stage ${st.name} is based on ${st.base}`);
      assert.equal(Number(m[1]) % 2, 0, `Node ${m[1]} is not an LTS line`);
      debian.add(`${m[1]}-${m[2]}`);
    }
    assert.equal(debian.size, 1, `one Node line and Debian release: ${[...debian].join(', ')}`);
    assert.ok(
      settings.user && !['root', '0'].includes(settings.user.split(':')[0]!),
      'runs as a non-root user',
    );
    assert.ok(settings.healthcheck, 'HEALTHCHECK');
    assert.match(settings.healthcheck.command.join(' '), /\/v2\/health\/live/);
    assert.ok(settings.cmd, 'CMD');
    const repo = settings.env.TESSERA_MODEL_REPOSITORY;
    assert.ok(repo && settings.volumes.includes(repo), 'the model repository is a VOLUME');
    assert.deepEqual(settings.expose, [settings.env.TESSERA_PORT]);
    const known = new Set<string>(Object.values(SERVE_ENV));
    for (const k of Object.keys(settings.env)) {
      assert.ok(k === 'NODE_ENV' || known.has(k), `ENV ${k} is not a setting tessera serve reads`);
    }
    // Only production dependencies and built output reach the final stage.
    const copies = final.instructions.filter((i) => i.op === 'COPY').map((i) => parseCopy(i.args));
    for (const c of copies) {
      for (const src of c.sources) assert.ok(!/^(src|test|bench)\b/.test(src), `final stage copies ${src}`);
    }
  });

  it('its commands, replayed in a fresh copy of the repository, build a server that comes up', {
    timeout: 240_000,
  }, async () => {
    const ctx = buildContext();
    assert.ok(!existsSync(join(ctx, 'node_modules')) && !existsSync(join(ctx, 'test')), 'context excludes');
    const done = new Map<string, StageState>();
    for (const stage of dockerfile.stages) done.set(stage.name, replayStage(stage, ctx, done));
    const image = done.get(final.name)!;
    image.env = { ...image.env };
    const app = inRoot(image, '.');

    // Only production dependencies and built output.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const d of Object.keys(pkg.dependencies))
      assert.ok(existsSync(join(app, 'node_modules', d)), `dependency ${d}`);
    for (const d of Object.keys(pkg.devDependencies))
      assert.ok(!existsSync(join(app, 'node_modules', d)), `dev dependency ${d} is in the image`);
    assert.ok(existsSync(join(app, 'dist', 'cli', 'main.js')), 'dist/cli/main.js');
    for (const d of ['src', 'test', 'bench', '.git'])
      assert.ok(!existsSync(join(app, d)), `${d}/ is in the image`);

    const env = imageEnv(image, { TESSERA_HOST: '127.0.0.1', TESSERA_PORT: '0', TESSERA_THREADS: '1' });
    const [cmd, ...args] = asUser(settings.cmd!);
    const child: ChildProcess = spawn(cmd!, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d) => {
          out += d;
          const m = /"url":"(http:\/\/[\d.]+:\d+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        exited.then((code) => reject(new Error(`the image's CMD exited (${code}): ${out}${err}`)));
      });
      const port = new URL(url).port;
      // The HEALTHCHECK command itself, with the port the server got.
      const [hc, ...hcArgs] = settings.healthcheck!.command;
      execFileSync(hc!, hcArgs, { cwd: app, env: { ...env, TESSERA_PORT: port }, timeout: 10_000 });
      assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
      const r = await fetch(`${url}/v2/models/mlp/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
        }),
      });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal(((await r.json()) as any).outputs[0].shape.join(','), '1,3');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `${out}${err}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
