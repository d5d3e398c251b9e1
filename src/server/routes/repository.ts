/**
 * Triton's model repository extension: POST /v2/repository/index, and
 * POST /v2/repository/models/{m}/load (optionally with `config` and `file:<path>` parameters)
 * and .../unload.
 */
import express, { Router } from 'express';
import type { ServerContext } from '../context.js';
import { badRequest } from '../errors.js';
import { checkJsonDepth } from '../security/limits.js';

type P = { model: string };

function params(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || (Buffer.isBuffer(body) && !body.length)) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the request body must be a JSON object');
  const p = (body as { parameters?: unknown }).parameters;
  if (p === undefined) return {};
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    throw badRequest("'parameters' must be an object");
  return p as Record<string, unknown>;
}

export function repositoryRoutes(ctx: ServerContext): Router {
  const r = Router();
  const json = express.json({
    type: () => true,
    limit: ctx.limits.maxBodyBytes,
    strict: false,
    verify: (_req, _res, buf) => checkJsonDepth(buf, ctx.limits),
  });

  r.post('/v2/repository/index', json, async (req, res) => {
    const b = req.body as { ready?: unknown } | undefined;
    if (b !== undefined && (typeof b !== 'object' || b === null))
      throw badRequest('the request body must be a JSON object');
    if (b?.ready !== undefined && typeof b.ready !== 'boolean') throw badRequest("'ready' must be a boolean");
    res.json(await ctx.repository.index(b?.ready === true));
  });

  r.post<'/v2/repository/models/:model/load', P>(
    '/v2/repository/models/:model/load',
    json,
    async (req, res) => {
      const p = params(req.body);
      const files: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(p)) {
        if (!k.startsWith('file:')) continue;
        if (typeof v !== 'string') throw badRequest(`parameter '${k}' must be a base64 string`);
        files[k.slice(5)] = Buffer.from(v, 'base64');
      }
      const config = p.config;
      if (
        config !== undefined &&
        typeof config !== 'string' &&
        (typeof config !== 'object' || config === null)
      ) {
        throw badRequest(
          "parameter 'config' must be a JSON string (or object) holding the model configuration",
        );
      }
      await ctx.repository.load(req.params.model, { config, files });
      ctx.log(`loaded model '${req.params.model}' (repository API)`);
      res.json({});
    },
  );

  r.post<'/v2/repository/models/:model/unload', P>(
    '/v2/repository/models/:model/unload',
    json,
    async (req, res) => {
      params(req.body);
      await ctx.repository.unload(req.params.model);
      ctx.log(`unloaded model '${req.params.model}' (repository API)`);
      res.json({});
    },
  );
  return r;
}
