/** What the routes share: the repository, metrics, limits and the server's lifecycle state. */
import type { ServerMetrics } from './metrics.js';
import type { ModelRepository } from './repository.js';

export interface ServerLimits {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Longest an inference request may take end to end, in ms (0: no limit). */
  requestTimeoutMs: number;
}

export interface ServerContext {
  repository: ModelRepository;
  metrics: ServerMetrics;
  limits: ServerLimits;
  /** Server metadata (GET /v2). */
  name: string;
  version: string;
  /** Ready once the startup load finished; not ready again while shutting down. */
  state: { ready: boolean; reason: string };
  log(message: string): void;
}

export const EXTENSIONS = [
  'binary_tensor_data',
  'classification',
  'model_configuration',
  'model_repository',
  'parameters',
  'schedule_policy',
  'statistics',
];
