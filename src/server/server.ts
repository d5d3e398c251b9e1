/**
 * Builds and runs the inference server: worker pool, model repository, metrics and the express
 * app. `startServer` listens first (so liveness answers during startup), loads the repository,
 * then reports ready; `close()` drains requests and stops the workers.
 */

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Device } from '../runtime/tensor.js';
import { createApp } from './app.js';
import type { ServerContext } from './context.js';
import type { ModelExecutor } from './executor.js';
import { ServerMetrics } from './metrics.js';
import { ModelRepository } from './repository.js';
import { WorkerPool } from './worker-pool.js';

export interface ServerOptions {
  modelRepository: string;
  host?: string;
  port?: number;
  device?: Device;
  /** Worker threads (default: os.availableParallelism()). */
  threads?: number;
  /** Largest request body, in bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** End-to-end limit per inference request, in ms (default 60 s; 0: none). */
  requestTimeoutMs?: number;
  /** Queue limit for models whose config sets none (default 0: unbounded). */
  maxQueueSize?: number;
  /** Run models with this executor instead of a worker pool (tests). */
  executor?: ModelExecutor;
  /** On close, how long queued and running requests may take to finish, in ms (default 10 s). */
  drainTimeoutMs?: number;
  /** Export process metrics (default true). */
  processMetrics?: boolean;
  log?: (message: string) => void;
}

export interface TesseraServer {
  app: Express;
  context: ServerContext;
  executor: ModelExecutor;
  /** Loads every model in the repository and marks the server ready. */
  loadModels(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The server without a listening socket (supertest drives `app` directly). */
export function createServer(opts: ServerOptions): TesseraServer {
  const log = opts.log ?? (() => {});
  const executor = opts.executor ?? new WorkerPool({ threads: opts.threads, log });
  const metrics = new ServerMetrics({ processMetrics: opts.processMetrics });
  const repository = new ModelRepository({
    root: opts.modelRepository,
    executor,
    metrics,
    device: opts.device ?? 'cpu',
    queueDefaults: { maxQueueSize: opts.maxQueueSize ?? 0 },
    log,
  });
  const context: ServerContext = {
    repository,
    metrics,
    limits: {
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    },
    name: 'tessera',
    version: packageVersion(),
    state: { ready: false, reason: 'loading the model repository' },
    log,
  };
  const app = createApp(context);
  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    executor,
    async loadModels() {
      await repository.loadAll();
      if (!closing) context.state = { ready: true, reason: '' };
    },
    close() {
      closing ??= (async () => {
        context.state = { ready: false, reason: 'shutting down' };
        await repository.drain(opts.drainTimeoutMs ?? 10_000);
        await repository.close();
        await executor.close();
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
  const http = await new Promise<Server>((resolve, reject) => {
    const s = server.app.listen(opts.port ?? 8000, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  // Keep-alive connections from load balancers outlive requests; let them idle out a little later than typical LB timeouts.
  http.keepAliveTimeout = 65_000;
  const port = (http.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const closeAll = server.close;
  const running: RunningServer = {
    ...server,
    http,
    port,
    url: `http://${shown}:${port}`,
    async close() {
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await closeAll();
      http.closeAllConnections();
      await stopped;
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
