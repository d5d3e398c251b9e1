/**
 * The express application: request ids and access logs, security headers and CORS, the shutdown
 * gate, authentication and rate limiting, every route of the inference server (plus any plugged
 * in, such as the training API), and one error handler that answers `{"error": "..."}`.
 */
import express, { type ErrorRequestHandler, type Router } from 'express';
import type { ServerContext } from './context.js';
import { dashboardRoutes } from './dashboard/index.js';
import { HttpError, messageOf, statusOf } from './errors.js';
import { requestLogging } from './logging.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { repositoryRoutes } from './routes/repository.js';
import { statsRoutes } from './routes/stats.js';
import { authMiddleware, type TokenEntry } from './security/auth.js';
import { cors, securityHeaders } from './security/headers.js';
import { LIMIT_FLAGS } from './security/limits.js';
import { type RateLimit, RateLimiter, rateLimitMiddleware } from './security/rate-limit.js';

export interface AppOptions {
  /** Bearer tokens; none: authentication off. */
  tokens?: readonly TokenEntry[];
  /** Per-client limit on training and repository requests (default: none). */
  rateLimit?: RateLimit;
  /** Origins allowed by CORS ("*" for any); none: CORS off. */
  corsOrigins?: readonly string[];
  /** express's `trust proxy` (so the client address comes from X-Forwarded-For behind a load balancer). */
  trustProxy?: boolean | number | string;
  /**
   * More routes (the training API): mounted after the built-in ones, behind the same logging,
   * shutdown gate, authentication (scope by path: /v2/models/{m}/train and /v2/training/* are
   * `training`) and rate limiting.
   */
  routes?: (ctx: ServerContext) => Router | Router[];
  /** The dashboard page at `/` (default true; `tessera serve --no-dashboard` turns it off). */
  dashboard?: boolean;
}

export function createApp(ctx: ServerContext, opts: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (opts.trustProxy !== undefined) app.set('trust proxy', opts.trustProxy);
  const rejected = (reason: string) => ctx.metrics.rejected.inc({ reason });
  ctx.metrics.inFlightSource = () => ctx.lifecycle.inFlight;

  app.use(requestLogging(ctx.logger));
  app.use(securityHeaders());
  if (opts.corsOrigins?.length) app.use(cors(opts.corsOrigins));
  app.use(ctx.lifecycle.middleware(() => rejected('shutting_down')));
  // The dashboard's static files hold no data, so they load without a token; its API calls carry one.
  if (opts.dashboard !== false) app.use(dashboardRoutes());
  app.use(authMiddleware(opts.tokens ?? [], rejected));
  if (opts.rateLimit && opts.rateLimit.limit > 0) {
    app.use(rateLimitMiddleware(new RateLimiter(opts.rateLimit), () => rejected('rate_limited')));
  }

  app.use(healthRoutes(ctx));
  // Before the model routes, so /v2/models/stats is not read as a model named "stats".
  app.use(statsRoutes(ctx));
  app.use(modelRoutes(ctx));
  app.use(inferRoutes(ctx));
  app.use(repositoryRoutes(ctx));
  app.use(metricsRoutes(ctx));
  if (opts.routes) {
    const extra = opts.routes(ctx);
    for (const r of Array.isArray(extra) ? extra : [extra]) app.use(r);
  }
  app.use((req, res) => {
    res.status(404).json({ error: `no endpoint for ${req.method} ${req.path}` });
  });
  app.use(errorHandler(ctx));
  return app;
}

/** An error message as the access log keeps it: bounded, with long quoted excerpts (request data) cut. */
function forLog(message: string): string {
  const cut = message.replace(/"[^"]{24,}"/g, '"…"');
  return cut.length > 240 ? `${cut.slice(0, 240)}…` : cut;
}

/** body-parser's errors carry `type`; everything else is an HttpError, a TesseraError or a bug. */
function errorHandler(ctx: ServerContext): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = err as { type?: string; status?: number; length?: number; limit?: number; body?: unknown };
    let status = statusOf(err);
    let message = messageOf(err);
    switch (e.type) {
      case 'entity.too.large':
        status = 413;
        message = `the request body (${e.length} bytes) is larger than the limit of ${e.limit} bytes (${LIMIT_FLAGS.maxBodyBytes})`;
        break;
      case 'entity.parse.failed':
        status = 400;
        message = `malformed JSON in the request body: ${message}`;
        break;
      case 'request.aborted':
      case 'request.size.invalid':
      case 'encoding.unsupported':
      case 'charset.unsupported':
        status = e.type.endsWith('unsupported') ? 415 : 400;
        break;
    }
    if (status === 413 || (err instanceof HttpError && err.reason === 'REJECTED' && status < 500)) {
      ctx.metrics.rejected.inc({ reason: 'limit' });
    }
    if (err instanceof HttpError && err.status === 499) {
      // The client is gone; there is nobody to answer.
      res.destroy();
      return;
    }
    res.locals.errorMessage = forLog(message);
    if (status >= 500 && !(err instanceof HttpError)) {
      ctx.logger.error(
        {
          reqId: res.locals.requestId,
          method: req.method,
          path: req.path,
          err: err instanceof Error ? err.stack : message,
        },
        'internal error',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: message });
  };
}
