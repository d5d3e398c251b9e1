/** The training API of the server: job manager, job store, request parsing, metrics and routes. */
import type { Router } from 'express';
import type { AppOptions } from '../app.js';
import type { ServerContext } from '../context.js';
import { trainingRoutes } from '../routes/training.js';
import type { TrainingManager } from './job-manager.js';

export { type JobSubscriber, PROVENANCE_FILE, TrainingManager, type TrainingOptions } from './job-manager.js';
export { JobStore } from './job-store.js';
export { TrainingMetrics } from './metrics.js';
export { parseTrainRequest } from './request.js';
export type { JobRecord, JobResult, JobState, TrainSpec } from './types.js';

/** The app's `routes` option with the training routes added (before any others given). */
export function withTrainingRoutes(
  routes: AppOptions['routes'],
  manager: TrainingManager | undefined,
): AppOptions['routes'] {
  if (!manager) return routes;
  return (ctx: ServerContext): Router[] => {
    const extra = routes?.(ctx) ?? [];
    return [trainingRoutes(ctx, manager), ...(Array.isArray(extra) ? extra : [extra])];
  };
}
