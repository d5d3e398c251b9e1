/**
 * `tessera serve`: the inference server (Open Inference Protocol v2) over a model repository.
 * Every flag can also be set by an environment variable (the flag wins), so a container can be
 * configured without changing its command line.
 */
import { parseArgs } from 'node:util';
import { cpuKernels } from '../../backends/cpu/wasm/runtime.js';
import { TesseraError } from '../../runtime/errors.js';
import { parseRateLimit } from '../../server/security/rate-limit.js';
import type { CliIO, Command } from '../command.js';
import { stdio } from '../command.js';

export interface ServeSettings {
  modelRepository: string;
  host: string;
  port: number;
  device: 'cpu' | 'webgpu';
  /** What serves webgpu models while their GPU worker process restarts: the CPU worker pool, or nothing (503s). */
  gpuFallback: 'cpu' | 'none';
  threads?: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  maxQueueSize: number;
  drainTimeoutMs: number;
  repositoryPollIntervalMs: number;
  logLevel: LogLevelName;
  /** Token entries as given (the secret itself; never logged). */
  authTokens?: string;
  authTokenFile?: string;
  /** Requests per window for training and repository routes, per client (limit 0: off). */
  rateLimit: { limit: number; windowMs: number };
  corsOrigins: string[];
  trustProxy?: boolean | number | string;
  maxJsonDepth: number;
  maxInputs: number;
  maxTensorElements: number;
  maxTensorBytes: number;
  maxRequestMemoryBytes: number;
  maxModelFileBytes: number;
  maxProtobufDepth: number;
  /** Training jobs that run at once (0: the training API is off). */
  maxTrainingJobs: number;
  /** Where training jobs keep their records, data and checkpoints (default <repository>/.training). */
  trainingDir?: string;
  /** false: no dashboard page at / (--no-dashboard, TESSERA_DASHBOARD=off); absent: on. */
  dashboard?: false;
}

const LOG_LEVEL_NAMES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

/** flag -> environment variable. */
export const SERVE_ENV = {
  'model-repository': 'TESSERA_MODEL_REPOSITORY',
  host: 'TESSERA_HOST',
  port: 'TESSERA_PORT',
  device: 'TESSERA_DEVICE',
  'gpu-fallback': 'TESSERA_GPU_FALLBACK',
  threads: 'TESSERA_THREADS',
  'max-body-size': 'TESSERA_MAX_BODY_SIZE',
  'request-timeout': 'TESSERA_REQUEST_TIMEOUT_MS',
  'max-queue-size': 'TESSERA_MAX_QUEUE_SIZE',
  'drain-timeout': 'TESSERA_DRAIN_TIMEOUT_MS',
  'repository-poll-interval': 'TESSERA_REPOSITORY_POLL_INTERVAL_MS',
  'log-level': 'TESSERA_LOG_LEVEL',
  'auth-tokens': 'TESSERA_AUTH_TOKENS',
  'auth-token-file': 'TESSERA_AUTH_TOKEN_FILE',
  'rate-limit': 'TESSERA_RATE_LIMIT',
  'cors-origins': 'TESSERA_CORS_ORIGINS',
  'trust-proxy': 'TESSERA_TRUST_PROXY',
  'max-json-depth': 'TESSERA_MAX_JSON_DEPTH',
  'max-inputs': 'TESSERA_MAX_INPUTS',
  'max-tensor-elements': 'TESSERA_MAX_TENSOR_ELEMENTS',
  'max-tensor-bytes': 'TESSERA_MAX_TENSOR_BYTES',
  'max-request-memory': 'TESSERA_MAX_REQUEST_MEMORY',
  'max-model-file-size': 'TESSERA_MAX_MODEL_FILE_SIZE',
  'max-protobuf-depth': 'TESSERA_MAX_PROTOBUF_DEPTH',
  'max-training-jobs': 'TESSERA_MAX_TRAINING_JOBS',
  'training-dir': 'TESSERA_TRAINING_DIR',
} as const;

type Flag = keyof typeof SERVE_ENV;

const USAGE = `Usage: tessera serve --model-repository <dir> [options]

Serves the models in <dir> over HTTP with the Open Inference Protocol (KServe v2 / Triton):
  <dir>/<model>/config.json and <dir>/<model>/<version>/model.onnx

Options (environment variable in brackets; the flag wins):
  --model-repository <dir>  model repository [TESSERA_MODEL_REPOSITORY] (required)
  --host <addr>             address to listen on [TESSERA_HOST] (default 0.0.0.0)
  --port <n>                port [TESSERA_PORT] (default 8000)
  --device <cpu|webgpu>     device for models whose config names none [TESSERA_DEVICE] (default cpu);
                            webgpu models run in a GPU worker process, restarted if it dies
  --gpu-fallback <cpu|none> while the GPU worker restarts, serve its models from the CPU worker
                            threads, or mark them not ready [TESSERA_GPU_FALLBACK] (default cpu)
  --threads <n>             model worker threads [TESSERA_THREADS] (default: available CPUs)
  --max-queue-size <n>      queue limit for models whose config sets none [TESSERA_MAX_QUEUE_SIZE] (default 0: none)
  --repository-poll-interval <ms>  reload new, changed and removed models every <ms>, for a repository
                            shared by replicas [TESSERA_REPOSITORY_POLL_INTERVAL_MS] (default 0: off)
  --drain-timeout <ms>      on SIGTERM, how long requests in flight and training checkpoints may take
                            [TESSERA_DRAIN_TIMEOUT_MS] (default 30000)
  --log-level <level>       fatal, error, warn, info, debug (every request), trace, silent
                            [TESSERA_LOG_LEVEL] (default info); JSON lines on stdout
  --no-dashboard            no dashboard page at / [TESSERA_DASHBOARD=off] (default: the dashboard is on)

Training (POST /v2/models/<m>/train):
  --max-training-jobs <n>   training jobs that run at once, each in a worker thread; more wait in a
                            queue [TESSERA_MAX_TRAINING_JOBS] (default 1; 0: no training API)
  --training-dir <dir>      job records, uploaded data and checkpoints, kept across restarts so
                            unfinished jobs resume [TESSERA_TRAINING_DIR] (default <repository>/.training)

Security:
  --auth-tokens <entries>   bearer tokens, 'scope[+scope]:token' comma-separated, scopes inference,
                            training, repository or *; prefer the environment [TESSERA_AUTH_TOKENS]
  --auth-token-file <path>  the same, one entry per line (a mounted secret) [TESSERA_AUTH_TOKEN_FILE]
                            (no tokens: authentication off)
  --rate-limit <n/unit>     per-client limit on training and repository requests, e.g. 60/min, 5/s,
                            0 for none [TESSERA_RATE_LIMIT] (default 60/min)
  --cors-origins <list>     comma-separated origins allowed by CORS, or * [TESSERA_CORS_ORIGINS] (default: CORS off)
  --trust-proxy <value>     trust X-Forwarded-For: true, a hop count, or addresses/subnets [TESSERA_TRUST_PROXY]

Limits (each refusal is a 400 or 413 naming its flag):
  --max-body-size <size>    largest request body, e.g. 64mb [TESSERA_MAX_BODY_SIZE] (default 64mb)
  --request-timeout <ms>    receiving a request, and an inference end to end [TESSERA_REQUEST_TIMEOUT_MS] (default 60000, 0: none)
  --max-json-depth <n>      nesting of a JSON body [TESSERA_MAX_JSON_DEPTH] (default 64)
  --max-inputs <n>          inputs per inference request [TESSERA_MAX_INPUTS] (default 64)
  --max-tensor-elements <n> elements per input tensor [TESSERA_MAX_TENSOR_ELEMENTS] (default 67108864)
  --max-tensor-bytes <size> decoded input tensors per request [TESSERA_MAX_TENSOR_BYTES] (default 256mb)
  --max-request-memory <size>  memory one request may need, inputs and outputs [TESSERA_MAX_REQUEST_MEMORY] (default 1gb)
  --max-model-file-size <size> largest model file loaded [TESSERA_MAX_MODEL_FILE_SIZE] (default 2gb)
  --max-protobuf-depth <n>  message nesting in a model file [TESSERA_MAX_PROTOBUF_DEPTH] (default 100)

Endpoints: /v2/health/live, /v2/health/ready, /v2, /v2/models/<m>[/versions/<v>][/ready|/config|/stats|/infer],
/v2/repository/index, /v2/repository/models/<m>/load|unload, /metrics,
/v2/models/<m>[/versions/<v>]/train, /v2/training/jobs[/<id>[/events]] (DELETE /v2/training/jobs/<id> cancels)`;

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

function trustProxy(raw: string): boolean | number | string {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
}

/** Reads the flags (and, for flags not given, the environment) into settings; throws INVALID_ARGUMENT. */
export function parseServeArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ServeSettings {
  // The one boolean flag; every other flag takes a value.
  const noDashboard = args.includes('--no-dashboard');
  args = args.filter((a) => a !== '--no-dashboard');
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
  const int = (flag: Flag, fallback: number, min = 0, max?: number) => {
    const v = get(flag);
    return v === undefined ? fallback : integer(v, flag, min, max);
  };
  const size = (flag: Flag, fallback: number) => {
    const v = get(flag);
    return v === undefined ? fallback : parseSize(v, flag);
  };
  const repo = get('model-repository');
  if (!repo) throw invalid(`--model-repository is required (or set ${SERVE_ENV['model-repository']})`);
  const device = get('device') ?? 'cpu';
  if (device !== 'cpu' && device !== 'webgpu')
    throw invalid(`--device expects cpu or webgpu, got '${device}'`);
  const gpuFallback = get('gpu-fallback') ?? 'cpu';
  if (gpuFallback !== 'cpu' && gpuFallback !== 'none')
    throw invalid(`--gpu-fallback expects cpu or none, got '${gpuFallback}'`);
  const threads = get('threads');
  const logLevel = get('log-level') ?? 'info';
  if (!(LOG_LEVEL_NAMES as readonly string[]).includes(logLevel)) {
    throw invalid(`--log-level expects one of ${LOG_LEVEL_NAMES.join(', ')}, got '${logLevel}'`);
  }
  const proxy = get('trust-proxy');
  return {
    modelRepository: repo,
    host: get('host') ?? '0.0.0.0',
    port: int('port', 8000, 0, 65535),
    device,
    gpuFallback,
    threads: threads === undefined ? undefined : integer(threads, 'threads', 1, 1024),
    maxBodyBytes: size('max-body-size', 64 * 1024 * 1024),
    requestTimeoutMs: int('request-timeout', 60_000),
    maxQueueSize: int('max-queue-size', 0),
    drainTimeoutMs: int('drain-timeout', 30_000),
    repositoryPollIntervalMs: int('repository-poll-interval', 0),
    logLevel: logLevel as LogLevelName,
    authTokens: get('auth-tokens'),
    authTokenFile: get('auth-token-file'),
    rateLimit: parseRateLimit(get('rate-limit') ?? '60/min'),
    corsOrigins: (get('cors-origins') ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    trustProxy: proxy === undefined ? undefined : trustProxy(proxy),
    maxJsonDepth: int('max-json-depth', 64, 1),
    maxInputs: int('max-inputs', 64, 1),
    maxTensorElements: int('max-tensor-elements', 64 * 1024 * 1024, 1),
    maxTensorBytes: size('max-tensor-bytes', 256 * 1024 * 1024),
    maxRequestMemoryBytes: size('max-request-memory', 1024 * 1024 * 1024),
    maxModelFileBytes: size('max-model-file-size', 2 * 1024 * 1024 * 1024 - 1),
    maxProtobufDepth: int('max-protobuf-depth', 100, 1),
    maxTrainingJobs: int('max-training-jobs', 1, 0, 1024),
    trainingDir: get('training-dir'),
    // Present only when off (the server's default is on).
    ...(noDashboard || /^(0|false|off|no)$/i.test(env.TESSERA_DASHBOARD ?? '') ? { dashboard: false } : {}),
  };
}

/** Runs the server until SIGINT or SIGTERM, then drains and exits 0 (a second signal exits 1 at once). */
export async function serveCommand(args: string[], io: CliIO = stdio): Promise<number> {
  const s = parseServeArgs(args);
  const { existsSync, statSync } = await import('node:fs');
  if (!existsSync(s.modelRepository) || !statSync(s.modelRepository).isDirectory()) {
    throw invalid(`the model repository '${s.modelRepository}' is not a directory`);
  }
  // The server (express, prom-client, pino, worker threads) loads only when this command runs.
  const { startServer, createLogger, loadTokens } = await import('../../server/index.js');
  const tokens = loadTokens({ tokens: s.authTokens, tokenFile: s.authTokenFile });
  const logger = createLogger({ level: s.logLevel, write: io === stdio ? undefined : io.out });
  const { authTokens: _t, authTokenFile: _f, ...settings } = s;
  const server = await startServer({
    ...settings,
    limits: {
      maxJsonDepth: s.maxJsonDepth,
      maxInputs: s.maxInputs,
      maxTensorElements: s.maxTensorElements,
      maxTensorBytes: s.maxTensorBytes,
      maxRequestMemoryBytes: s.maxRequestMemoryBytes,
      maxModelFileBytes: s.maxModelFileBytes,
      maxProtobufDepth: s.maxProtobufDepth,
    },
    tokens,
    logger,
    training: s.maxTrainingJobs > 0 ? { maxJobs: s.maxTrainingJobs, dir: s.trainingDir } : false,
  });
  const models = (await server.context.repository.index(true)).length;
  logger.info(
    {
      url: server.url,
      models,
      threads: server.executor.concurrency,
      device: s.device,
      cpuKernels: cpuKernels(),
      auth: tokens.length ? `${tokens.length} token(s)` : 'off',
      rateLimit: s.rateLimit.limit ? `${s.rateLimit.limit}/${s.rateLimit.windowMs / 1000}s` : 'off',
      pollMs: s.repositoryPollIntervalMs,
    },
    `tessera serving ${models} model version(s) from ${s.modelRepository} at ${server.url} ` +
      `(${server.executor.concurrency} worker threads, device ${s.device}, CPU kernels ${cpuKernels()})`,
  );
  let cleanup = () => {};
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting without waiting for the drain`);
        logger.flush();
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal}: draining requests and shutting down (drain timeout ${s.drainTimeoutMs} ms)`);
      server.close().then(resolve, (e) => {
        logger.error(`error while shutting down: ${(e as Error).message}`);
        resolve();
      });
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    cleanup = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  });
  cleanup();
  logger.info('stopped');
  logger.flush();
  // Nothing of the server should keep the process alive now; if something does, do not hang.
  setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
  return 0;
}

const serve: Command = {
  name: 'serve',
  summary: 'Serve a model repository over HTTP (Open Inference Protocol v2, Prometheus /metrics)',
  usage: USAGE,
  run: serveCommand,
};
export default serve;
