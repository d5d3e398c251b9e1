/**
 * `tessera serve`: the inference server (Open Inference Protocol v2) over a model repository.
 * Every flag can also be set by an environment variable (the flag wins), so a container can be
 * configured without changing its command line.
 */
import { parseArgs } from 'node:util';
import { TesseraError } from '../../runtime/errors.js';
import type { CliIO, Command } from '../command.js';
import { stdio } from '../command.js';

export interface ServeSettings {
  modelRepository: string;
  host: string;
  port: number;
  device: 'cpu' | 'webgpu';
  threads?: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  maxQueueSize: number;
}

/** flag -> environment variable. */
export const SERVE_ENV = {
  'model-repository': 'TESSERA_MODEL_REPOSITORY',
  host: 'TESSERA_HOST',
  port: 'TESSERA_PORT',
  device: 'TESSERA_DEVICE',
  threads: 'TESSERA_THREADS',
  'max-body-size': 'TESSERA_MAX_BODY_SIZE',
  'request-timeout': 'TESSERA_REQUEST_TIMEOUT_MS',
  'max-queue-size': 'TESSERA_MAX_QUEUE_SIZE',
} as const;

type Flag = keyof typeof SERVE_ENV;

const USAGE = `Usage: tessera serve --model-repository <dir> [options]

Serves the models in <dir> over HTTP with the Open Inference Protocol (KServe v2 / Triton):
  <dir>/<model>/config.json and <dir>/<model>/<version>/model.onnx

Options (environment variable in brackets; the flag wins):
  --model-repository <dir>  model repository [TESSERA_MODEL_REPOSITORY] (required)
  --host <addr>             address to listen on [TESSERA_HOST] (default 0.0.0.0)
  --port <n>                port [TESSERA_PORT] (default 8000)
  --device <cpu|webgpu>     device for models whose config names none [TESSERA_DEVICE] (default cpu)
  --threads <n>             model worker threads [TESSERA_THREADS] (default: available CPUs)
  --max-body-size <size>    largest request body, e.g. 64mb [TESSERA_MAX_BODY_SIZE] (default 64mb)
  --request-timeout <ms>    end-to-end limit per inference [TESSERA_REQUEST_TIMEOUT_MS] (default 60000, 0: none)
  --max-queue-size <n>      queue limit for models whose config sets none [TESSERA_MAX_QUEUE_SIZE] (default 0: none)

Endpoints: /v2/health/live, /v2/health/ready, /v2, /v2/models/<m>[/versions/<v>][/ready|/config|/stats|/infer],
/v2/repository/index, /v2/repository/models/<m>/load|unload, /metrics`;

const invalid = (msg: string) => new TesseraError('INVALID_ARGUMENT', msg);

/** "64mb", "512kb", "1gb" or a byte count. */
export function parseSize(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(raw.trim());
  if (!m) throw invalid(`--${flag} expects a size such as 1048576, 512kb or 64mb, got '${raw}'`);
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1) throw invalid(`--${flag} must be at least 1 byte, got '${raw}'`);
  return n;
}

function integer(raw: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || v < min || v > max) {
    throw invalid(`--${flag} expects an integer in [${min}, ${max}], got '${raw}'`);
  }
  return v;
}

/** Reads the flags (and, for flags not given, the environment) into settings; throws INVALID_ARGUMENT. */
export function parseServeArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ServeSettings {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args,
      options: Object.fromEntries(Object.keys(SERVE_ENV).map((k) => [k, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (e) {
    throw invalid((e as Error).message);
  }
  const get = (flag: Flag): string | undefined => {
    const v = values[flag] ?? env[SERVE_ENV[flag]];
    return v === undefined || v === '' ? undefined : v;
  };
  const repo = get('model-repository');
  if (!repo) throw invalid(`--model-repository is required (or set ${SERVE_ENV['model-repository']})`);
  const device = get('device') ?? 'cpu';
  if (device !== 'cpu' && device !== 'webgpu')
    throw invalid(`--device expects cpu or webgpu, got '${device}'`);
  const threads = get('threads');
  const body = get('max-body-size');
  const timeout = get('request-timeout');
  const queue = get('max-queue-size');
  const port = get('port');
  return {
    modelRepository: repo,
    host: get('host') ?? '0.0.0.0',
    port: port === undefined ? 8000 : integer(port, 'port', 0, 65535),
    device,
    threads: threads === undefined ? undefined : integer(threads, 'threads', 1, 1024),
    maxBodyBytes: body === undefined ? 64 * 1024 * 1024 : parseSize(body, 'max-body-size'),
    requestTimeoutMs: timeout === undefined ? 60_000 : integer(timeout, 'request-timeout', 0),
    maxQueueSize: queue === undefined ? 0 : integer(queue, 'max-queue-size', 0),
  };
}

/** Runs the server until SIGINT or SIGTERM, then drains and exits 0. */
export async function serveCommand(args: string[], io: CliIO = stdio): Promise<number> {
  const s = parseServeArgs(args);
  const { existsSync, statSync } = await import('node:fs');
  if (!existsSync(s.modelRepository) || !statSync(s.modelRepository).isDirectory()) {
    throw invalid(`the model repository '${s.modelRepository}' is not a directory`);
  }
  // The server (express, prom-client, worker threads) loads only when this command runs.
  const { startServer } = await import('../../server/index.js');
  const log = (m: string) => io.err(`[tessera] ${m}`);
  const server = await startServer({ ...s, log });
  const models = (await server.context.repository.index(true)).length;
  io.out(
    `tessera serving ${models} model version(s) from ${s.modelRepository} at ${server.url} ` +
      `(${server.executor.concurrency} worker threads, device ${s.device})`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      log(`${signal}: draining requests and shutting down`);
      server.close().then(resolve, (e) => {
        log(`error while shutting down: ${(e as Error).message}`);
        resolve();
      });
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return 0;
}

const serve: Command = {
  name: 'serve',
  summary: 'Serve a model repository over HTTP (Open Inference Protocol v2, Prometheus /metrics)',
  usage: USAGE,
  run: serveCommand,
};
export default serve;
