/**
 * Builds and runs the inference server: worker pool, model repository, metrics, logger and the
 * express app. `startServer` listens first (so liveness answers during startup), loads the
 * repository, then reports ready; `close()` drains (readiness false, new requests 503, requests in
 * flight and shutdown hooks bounded by the drain timeout) and stops the workers and the listener.
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Device } from '../runtime/tensor.js';
import { type AppOptions, createApp } from './app.js';
import type { ServerContext } from './context.js';
import type { ModelExecutor } from './executor.js';
import {
  DeviceExecutor,
  type DeviceExecutorOptions,
  type GpuFallback,
  trackGpuReadiness,
} from './gpu-executor.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger, type Logger, silentLogger } from './logging.js';
import { ServerMetrics } from './metrics.js';
import { ModelRepository } from './repository.js';
import { DEFAULT_LIMITS, type ServerLimits } from './security/limits.js';
import { TrainingManager, type TrainingOptions, withTrainingRoutes } from './training/index.js';
import { WorkerPool } from './worker-pool.js';

export interface ServerOptions extends AppOptions {
  modelRepository: string;
  host?: string;
  port?: number;
  device?: Device;
  /** Worker threads (default: os.availableParallelism()). */
  threads?: number;
  /** Largest request body, in bytes (default 64 MiB). Same as limits.maxBodyBytes. */
  maxBodyBytes?: number;
  /** End-to-end limit per inference request, in ms (default 60 s; 0: none). Same as limits.requestTimeoutMs. */
  requestTimeoutMs?: number;
  /** Every input limit (defaults: DEFAULT_LIMITS). */
  limits?: Partial<ServerLimits>;
  /** Queue limit for models whose config sets none (default 0: unbounded). */
  maxQueueSize?: number;
  /** Run models with this executor instead of a worker pool (tests). */
  executor?: ModelExecutor;
  /** What serves webgpu models while their GPU worker process restarts (default 'cpu': the worker pool). */
  gpuFallback?: GpuFallback;
  /** GPU worker options for webgpu models (adapter choice, start timeout). */
  webgpu?: DeviceExecutorOptions['webgpu'];
  /** On close, how long requests in flight and shutdown hooks may take to finish, in ms (default 10 s). */
  drainTimeoutMs?: number;
  /** Poll the repository for new, changed and removed models every this many ms (0: off). */
  repositoryPollIntervalMs?: number;
  /** Export process metrics (default true). */
  processMetrics?: boolean;
  /** Training jobs (POST /v2/models/{m}/train): how many run at once and where they are kept; false: no training API. */
  training?: TrainingOptions | false;
  /** Structured logger (default: a silent one, or one line per message through `log`). */
  logger?: Logger;
  /** Plain-text log sink, kept for embedders and tests; used when no `logger` is given. */
  log?: (message: string) => void;
}

export interface TesseraServer {
  app: Express;
  context: ServerContext;
  executor: ModelExecutor;
  /** The training job manager (absent when the training API is off). */
  training?: TrainingManager;
  /** Loads every model in the repository, marks the server ready and starts polling (when asked). */
  loadModels(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = DEFAULT_LIMITS.maxBodyBytes;
export const DEFAULT_REQUEST_TIMEOUT_MS = DEFAULT_LIMITS.requestTimeoutMs;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function resolveLogger(opts: ServerOptions): Logger {
  if (opts.logger) return opts.logger;
  if (opts.log) return createLogger({ write: opts.log });
  return silentLogger();
}

/** Waits for `p`, but no longer than `ms`. */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The server without a listening socket (supertest drives `app` directly). */
export function createServer(opts: ServerOptions): TesseraServer {
  const logger = resolveLogger(opts);
  const log = (m: string) => logger.info(m);
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    ...opts.limits,
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  };
  // Models with device 'webgpu' run in a GPU worker process, the others on the CPU executor.
  const executor = new DeviceExecutor({
    cpu: opts.executor ?? new WorkerPool({ threads: opts.threads, log }),
    gpuFallback: opts.gpuFallback,
    webgpu: opts.webgpu,
    log,
  });
  const metrics = new ServerMetrics({ processMetrics: opts.processMetrics });
  metrics.webgpuFallbackSource = () => executor.fallbackCounts();
  const repository = new ModelRepository({
    root: opts.modelRepository,
    executor,
    metrics,
    device: opts.device ?? 'cpu',
    queueDefaults: { maxQueueSize: opts.maxQueueSize ?? 0 },
    limits,
    log,
  });
  trackGpuReadiness(executor, repository, metrics);
  const lifecycle = new Lifecycle();
  const context: ServerContext = {
    repository,
    metrics,
    limits,
    name: 'tessera',
    version: packageVersion(),
    state: { ready: false, reason: 'loading the model repository' },
    lifecycle,
    logger,
    log,
  };
  const training =
    opts.training === false
      ? undefined
      : new TrainingManager({ repository, registry: metrics.registry, logger }, opts.training);
  // On SIGTERM running jobs checkpoint and are marked interrupted; they resume when the server starts again.
  if (training) lifecycle.onShutdown('training', (deadline) => training.shutdown(deadline));
  const app = createApp(context, { ...opts, routes: withTrainingRoutes(opts.routes, training) });
  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    executor,
    training,
    async loadModels() {
      await repository.loadAll();
      // Jobs the last process left unfinished resume (the models they train are loaded by now).
      if (!closing) await training?.start();
      if (closing) return;
      context.state = { ready: true, reason: '' };
      repository.startPolling(opts.repositoryPollIntervalMs ?? 0);
    },
    close() {
      closing ??= (async () => {
        context.state = { ready: false, reason: 'shutting down' };
        const timeout = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
        const started = Date.now();
        const left = () => Math.max(0, timeout - (Date.now() - started));
        const report = await lifecycle.drain(timeout, log);
        // Queued work that belongs to no HTTP request any more, within what is left of the timeout.
        await repository.drain(left());
        logger.info(
          { abandoned: report.abandoned, failedHooks: report.failedHooks, ms: Date.now() - started },
          'drained',
        );
        // Unloading waits for running executions; past the deadline, stopping the workers ends them.
        await bounded(repository.close(), left() + 100);
        await executor.close();
        await training?.close();
      })();
      return closing;
    },
  };
}

export interface RunningServer extends TesseraServer {
  http: Server;
  /** http://host:port of the listening socket. */
  url: string;
  port: number;
}

/** Listens, loads the repository, and resolves once the server is ready. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const server = createServer(opts);
  const host = opts.host ?? '0.0.0.0';
  const { requestTimeoutMs } = server.context.limits;
  // requestTimeout bounds receiving a whole request (a slow or stalled body gets a 408); Node
  // checks it every connectionsCheckingInterval, so that follows the timeout.
  const http = createHttpServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs > 0 ? Math.min(requestTimeoutMs, 60_000) : 60_000,
      connectionsCheckingInterval:
        requestTimeoutMs > 0 ? Math.max(100, Math.min(30_000, requestTimeoutMs / 4)) : 30_000,
    },
    server.app,
  );
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 8000, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  // Keep-alive connections from load balancers outlive requests; let them idle out a little later than typical LB timeouts.
  http.keepAliveTimeout = 65_000;
  const port = (http.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const closeAll = server.close;
  let closing: Promise<void> | undefined;
  const running: RunningServer = {
    ...server,
    http,
    port,
    url: `http://${shown}:${port}`,
    close() {
      closing ??= (async () => {
        // The listener stays open while draining, so new requests get a 503 rather than a refused connection.
        await closeAll();
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
  try {
    await server.loadModels();
  } catch (e) {
    await running.close();
    throw e;
  }
  return running;
}
