/** GET /v2/health/live, /v2/health/ready and GET /v2 (server metadata with its extensions). */
import { Router } from 'express';
import { EXTENSIONS, type ServerContext } from '../context.js';

export function healthRoutes(ctx: ServerContext): Router {
  const r = Router();
  // Liveness: the event loop answers. Model execution runs in worker threads, so this stays fast under load.
  r.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  r.get('/v2/health/ready', (_req, res) => {
    if (ctx.state.ready) res.json({ ready: true });
    else res.status(503).json({ error: `server is not ready: ${ctx.state.reason}` });
  });
  r.get('/v2', (_req, res) => {
    res.json({ name: ctx.name, version: ctx.version, extensions: EXTENSIONS });
  });
  return r;
}
