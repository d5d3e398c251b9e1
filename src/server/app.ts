/** The express application: every route of the inference server, and one error handler that answers `{"error": "..."}`. */
import express, { type ErrorRequestHandler } from 'express';
import type { ServerContext } from './context.js';
import { HttpError, messageOf, statusOf } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { repositoryRoutes } from './routes/repository.js';
import { statsRoutes } from './routes/stats.js';

export function createApp(ctx: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(healthRoutes(ctx));
  // Before the model routes, so /v2/models/stats is not read as a model named "stats".
  app.use(statsRoutes(ctx));
  app.use(modelRoutes(ctx));
  app.use(inferRoutes(ctx));
  app.use(repositoryRoutes(ctx));
  app.use(metricsRoutes(ctx));
  app.use((req, res) => {
    res.status(404).json({ error: `no endpoint for ${req.method} ${req.path}` });
  });
  app.use(errorHandler(ctx));
  return app;
}

/** body-parser's errors carry `type`; everything else is an HttpError, a TesseraError or a bug. */
function errorHandler(ctx: ServerContext): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const e = err as { type?: string; status?: number; length?: number; limit?: number; body?: unknown };
    let status = statusOf(err);
    let message = messageOf(err);
    switch (e.type) {
      case 'entity.too.large':
        status = 400;
        message = `the request body (${e.length} bytes) is larger than the limit of ${e.limit} bytes (--max-body-size)`;
        break;
      case 'entity.parse.failed':
        status = 400;
        message = `malformed JSON in the request body: ${message}`;
        break;
      case 'request.aborted':
      case 'request.size.invalid':
        status = 400;
        break;
    }
    if (err instanceof HttpError && err.status === 499) {
      // The client is gone; there is nobody to answer.
      res.destroy();
      return;
    }
    if (status >= 500 && !(err instanceof HttpError)) {
      ctx.log(`internal error: ${err instanceof Error ? (err.stack ?? message) : message}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: message });
  };
}
