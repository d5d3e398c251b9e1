/**
 * Optional bearer-token authentication with scopes. Each route belongs to one scope: `inference`
 * (server and model metadata, statistics, infer), `training` (/v2/models/{m}/train and
 * /v2/training/*) or `repository` (/v2/repository/*); health and /metrics are open so probes and
 * scrapers need no secret. Tokens come from the environment or a file, one entry per line (or
 * comma-separated): `scope[+scope...]:token`, or a bare token for every scope. Comparison is in
 * constant time over SHA-256 digests, against every configured token. A missing or unknown token
 * is a 401, a known token without the route's scope a 403, both with the `{"error": ...}` body.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';
import { TesseraError } from '../../runtime/errors.js';

export const SCOPES = ['inference', 'training', 'repository'] as const;
export type Scope = (typeof SCOPES)[number];

export const MIN_TOKEN_LENGTH = 16;

export interface TokenEntry {
  scopes: ReadonlySet<Scope>;
  digest: Buffer;
  /** A short, non-secret fingerprint of the token for logs and rate limiting. */
  id: string;
}

const TRAIN_PATH = /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/train(?:\/|$)/;

/**
 * The scope a request needs, or null for the open paths. The path is compared lower-cased with
 * repeated slashes folded, so no spelling that express would route reaches a route under a weaker
 * scope.
 */
export function scopeOf(path: string): Scope | null {
  const p = path.toLowerCase().replace(/\/{2,}/g, '/');
  if (/^\/(?:v2\/health\/(?:live|ready)|metrics)\/?$/.test(p)) return null;
  if (p === '/v2/repository' || p.startsWith('/v2/repository/')) return 'repository';
  if (p === '/v2/training' || p.startsWith('/v2/training/') || TRAIN_PATH.test(p)) return 'training';
  return 'inference';
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Parses token entries; throws INVALID_ARGUMENT naming `source` (never the token). */
export function parseTokens(text: string, source: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  const lines = text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  lines.forEach((line, i) => {
    let scopes: Set<Scope> = new Set(SCOPES);
    let token = line;
    const colon = line.indexOf(':');
    if (colon > 0) {
      const names = line.slice(0, colon).split('+');
      if (names.every((n) => n === '*' || (SCOPES as readonly string[]).includes(n))) {
        scopes = names.includes('*') ? new Set(SCOPES) : new Set(names as Scope[]);
        token = line.slice(colon + 1).trim();
      }
    }
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${source}: entry ${i + 1} has a token shorter than ${MIN_TOKEN_LENGTH} characters or with spaces ` +
          `(expected 'scope[+scope]:token' with scopes ${SCOPES.join(', ')} or '*')`,
      );
    }
    const d = digest(token);
    out.push({ scopes, digest: d, id: d.subarray(0, 6).toString('hex') });
  });
  return out;
}

/** Tokens from a string (environment) and/or a file (a mounted secret). */
export function loadTokens(opts: { tokens?: string; tokenFile?: string }): TokenEntry[] {
  const out: TokenEntry[] = [];
  if (opts.tokens) out.push(...parseTokens(opts.tokens, 'TESSERA_AUTH_TOKENS'));
  if (opts.tokenFile) {
    let text: string;
    try {
      text = readFileSync(opts.tokenFile, 'utf8');
    } catch (e) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `cannot read the token file '${opts.tokenFile}': ${(e as Error).message}`,
      );
    }
    out.push(...parseTokens(text, opts.tokenFile));
  }
  return out;
}

/** The entry whose token equals `token`, comparing against every entry in constant time each. */
export function findToken(entries: readonly TokenEntry[], token: string): TokenEntry | undefined {
  const d = digest(token);
  let found: TokenEntry | undefined;
  for (const e of entries) if (timingSafeEqual(e.digest, d) && !found) found = e;
  return found;
}

/**
 * Checks the bearer token against the route's scope. With no tokens configured every request
 * passes (auth off). `onRefused` counts refusals for the metrics.
 */
export function authMiddleware(
  entries: readonly TokenEntry[],
  onRefused?: (reason: 'unauthenticated' | 'forbidden') => void,
): RequestHandler {
  return (req, res, next) => {
    if (!entries.length) {
      next();
      return;
    }
    const scope = scopeOf(req.path);
    if (scope === null) {
      next();
      return;
    }
    const header = req.get('authorization') ?? '';
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) {
      onRefused?.('unauthenticated');
      res.setHeader('WWW-Authenticate', 'Bearer realm="tessera"');
      res.status(401).json({
        error: `authentication required: send 'Authorization: Bearer <token>' with a token for the '${scope}' scope`,
      });
      return;
    }
    const entry = findToken(entries, m[1]!);
    if (!entry) {
      onRefused?.('unauthenticated');
      res.setHeader('WWW-Authenticate', 'Bearer realm="tessera", error="invalid_token"');
      res.status(401).json({ error: 'the bearer token is not valid' });
      return;
    }
    res.locals.principal = `token:${entry.id}`;
    if (!entry.scopes.has(scope)) {
      onRefused?.('forbidden');
      res.setHeader(
        'WWW-Authenticate',
        `Bearer realm="tessera", error="insufficient_scope", scope="${scope}"`,
      );
      res.status(403).json({
        error: `the token does not grant the '${scope}' scope that ${req.method} ${req.path} needs`,
      });
      return;
    }
    next();
  };
}
