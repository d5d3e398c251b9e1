/** GET /metrics: Prometheus text exposition. */
import { Router } from 'express';
import type { ServerContext } from '../context.js';

export function metricsRoutes(ctx: ServerContext): Router {
  const r = Router();
  r.get('/metrics', async (_req, res) => {
    const { contentType, body } = await ctx.metrics.text();
    res.set('Content-Type', contentType).send(body);
  });
  return r;
}
