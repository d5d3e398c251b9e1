/** The inference server (Open Inference Protocol v2): `startServer` / `createServer` and their parts. */
export { type AppOptions, createApp } from './app.js';
export type { ServerContext, ServerLimits } from './context.js';
export { HttpError } from './errors.js';
export type {
  ExecTiming,
  LoadSpec,
  ModelExecutor,
  ModelSignature,
  RunResult,
  TensorSignature,
} from './executor.js';
export { type DrainReport, Lifecycle, type ShutdownHook } from './lifecycle.js';
export { createLogger, type Logger, REQUEST_ID_HEADER, silentLogger } from './logging.js';
export { ServerMetrics } from './metrics.js';
export { type ModelConfig, parseModelConfig } from './model-config.js';
export type { TensorPayload } from './protocol/types.js';
export { publishVersion, removeStaleTemporaries } from './publish.js';
export { ModelRepository } from './repository.js';
export { loadTokens, parseTokens, type Scope, scopeOf, type TokenEntry } from './security/auth.js';
export { DEFAULT_LIMITS, LIMIT_FLAGS } from './security/limits.js';
export { parseRateLimit, type RateLimit } from './security/rate-limit.js';
export {
  createServer,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type RunningServer,
  type ServerOptions,
  startServer,
  type TesseraServer,
} from './server.js';
export {
  type JobRecord,
  type JobState,
  TrainingManager,
  type TrainingOptions,
} from './training/index.js';
export { WorkerPool } from './worker-pool.js';
