/** The inference server (Open Inference Protocol v2): `startServer` / `createServer` and their parts. */
export { createApp } from './app.js';
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
export { ServerMetrics } from './metrics.js';
export { type ModelConfig, parseModelConfig } from './model-config.js';
export type { TensorPayload } from './protocol/types.js';
export { ModelRepository } from './repository.js';
export {
  createServer,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type RunningServer,
  type ServerOptions,
  startServer,
  type TesseraServer,
} from './server.js';
export { WorkerPool } from './worker-pool.js';
