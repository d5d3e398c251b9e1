/**
 * Per-client rate limiting for the expensive routes (training and repository control): a token
 * bucket per client and scope that holds `limit` requests and refills at `limit` per `windowMs`.
 * The client is the token's fingerprint when authenticated, else the remote address (set
 * --trust-proxy behind a load balancer so that is the real client). A refused request is a 429
 * with Retry-After; full buckets are forgotten so the table stays bounded.
 */
import type { RequestHandler } from 'express';
import { TesseraError } from '../../runtime/errors.js';
import { type Scope, scopeOf } from './auth.js';

export interface RateLimit {
  /** Requests per window (0: no limit). */
  limit: number;
  windowMs: number;
}

export const RATE_LIMITED_SCOPES: readonly Scope[] = ['training', 'repository'];
export const DEFAULT_RATE_LIMIT: RateLimit = { limit: 60, windowMs: 60_000 };

const UNITS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** "60/min", "10/s", "1000/h", "0" (off). */
export function parseRateLimit(raw: string): RateLimit {
  const m = /^\s*(\d+)\s*(?:\/\s*(s|sec|m|min|h|hour))?\s*$/.exec(raw);
  if (!m) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `--rate-limit expects requests per window such as 60/min, 5/s or 0 (off), got '${raw}'`,
    );
  }
  return { limit: Number(m[1]), windowMs: UNITS[m[2] ?? 'min']! };
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(
    readonly rate: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from `key`'s bucket: 0 when allowed, else the ms until one is available. */
  take(key: string): number {
    const { limit, windowMs } = this.rate;
    if (limit <= 0) return 0;
    const t = this.now();
    const perMs = limit / windowMs;
    const b = this.buckets.get(key) ?? { tokens: limit, at: t };
    b.tokens = Math.min(limit, b.tokens + (t - b.at) * perMs);
    b.at = t;
    this.buckets.set(key, b);
    if (++this.takes % 1024 === 0) this.sweep(t);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / perMs);
  }

  /** Buckets now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled completely (they hold no state worth keeping). */
  sweep(t = this.now()): void {
    const { limit, windowMs } = this.rate;
    for (const [k, b] of this.buckets)
      if (b.tokens + ((t - b.at) * limit) / windowMs >= limit) this.buckets.delete(k);
  }
}

export function rateLimitMiddleware(limiter: RateLimiter, onRefused?: () => void): RequestHandler {
  const { limit, windowMs } = limiter.rate;
  const per = windowMs === 1000 ? 'second' : windowMs === 60_000 ? 'minute' : `${windowMs / 1000} s`;
  return (req, res, next) => {
    const scope = scopeOf(req.path);
    // Reads (job status polls, event streams) are cheap and expected often: only writes are limited.
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (limit <= 0 || read || scope === null || !RATE_LIMITED_SCOPES.includes(scope)) {
      next();
      return;
    }
    const wait = limiter.take(`${scope}|${res.locals.principal}`);
    if (wait > 0) {
      onRefused?.();
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      res.status(429).json({
        error: `rate limit exceeded for '${scope}' requests: ${limit} per ${per} per client (--rate-limit); retry in ${Math.ceil(wait / 1000)} s`,
      });
      return;
    }
    next();
  };
}
