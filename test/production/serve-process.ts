/**
 * `tessera serve` as a separate process, the way a container runs it: started through
 * bin/tessera.js with flags and TESSERA_* variables on 127.0.0.1 and port 0, its JSON log lines
 * collected, stopped with a signal and its exit code reported.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Every log line so far, parsed. */
  logs: Record<string, any>[];
  exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node <command...>` (default `bin/tessera.js serve`) with `args` after it, and resolves
 * once the server logs its URL. `command` lets a test start exactly what `npm start` runs.
 */
export async function startServe(
  args: string[],
  env: Record<string, string> = {},
  command: string[] = [join(ROOT, 'bin', 'tessera.js'), 'serve'],
  cwd = ROOT,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...command, '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd,
    env: { ...process.env, TESSERA_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  let pending = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        let entry: Record<string, any>;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { msg: line, notJson: true };
        }
        logs.push(entry);
        if (typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${JSON.stringify(logs)} ${stderr}`));
    });
  });
  return {
    child,
    url,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Polls `fn` every 50 ms until it returns a truthy value or `ms` pass (then throws `what`). */
export async function waitFor<T>(fn: () => Promise<T> | T, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function inferMlp(url: string, version?: string): Promise<{ status: number; body: any }> {
  const path = version ? `/v2/models/mlp/versions/${version}/infer` : '/v2/models/mlp/infer';
  const r = await fetch(url + path, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
    }),
  });
  return { status: r.status, body: await r.json() };
}
