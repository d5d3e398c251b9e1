/**
 * Response headers: helmet's security headers (tuned for a JSON API: no content may load, no
 * framing) and CORS, which is off unless origins are configured. With origins configured the
 * server answers preflight requests and lets the listed origins read responses, including the
 * binary-tensor and request-id headers.
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers. With this configuration they do not depend on the request, so helmet runs
 * once against a recording response and each request gets the recorded headers in one loop
 * (helmet's own chain of a dozen middlewares cost about a tenth of a small inference request).
 */
export function securityHeaders(): RequestHandler {
  const h = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  const headers: [string, string][] = [];
  let recorded = false;
  const recorder = {
    setHeader: (k: string, v: unknown) => headers.push([k, String(v)]),
    removeHeader: () => {},
    getHeader: () => undefined,
  };
  h({ headers: {}, method: 'GET' } as never, recorder as never, (err?: unknown) => {
    recorded = err === undefined;
  });
  if (!recorded) return h;
  return (_req, res, next) => {
    for (const [k, v] of headers) res.setHeader(k, v);
    res.removeHeader('X-Powered-By');
    next();
  };
}

const ALLOW_HEADERS = 'Authorization, Content-Type, Inference-Header-Content-Length, X-Request-Id';
const EXPOSE_HEADERS = 'Inference-Header-Content-Length, X-Request-Id, Retry-After';

/** `origins`: exact origins ("https://app.example.com"), or ["*"] for any. Empty: CORS off. */
export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (!origins.length || !origin || (!any && !allowed.has(origin))) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    if (!any) res.append('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
