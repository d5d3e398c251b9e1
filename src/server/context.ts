/** What the routes share: the repository, metrics, limits, logger and the server's lifecycle. */
import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './logging.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelRepository } from './repository.js';
import type { ServerLimits } from './security/limits.js';

export type { ServerLimits };

export interface ServerContext {
  repository: ModelRepository;
  metrics: ServerMetrics;
  limits: ServerLimits;
  /** Server metadata (GET /v2). */
  name: string;
  version: string;
  /** Ready once the startup load finished; not ready again while shutting down. */
  state: { ready: boolean; reason: string };
  /** Draining, requests in flight, and the shutdown hooks (the training API registers one). */
  lifecycle: Lifecycle;
  /** Structured logs; `log` writes one info line. */
  logger: Logger;
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
