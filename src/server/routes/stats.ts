/** GET /v2/models[/{m}[/versions/{v}]]/stats: Triton's statistics extension. */
import { type Response, Router } from 'express';
import type { ServerContext } from '../context.js';
import { notFound } from '../errors.js';

type P = { model?: string; version?: string };

export function statsRoutes(ctx: ServerContext): Router {
  const r = Router();
  const handler = (req: { params: P }, res: Response) => {
    const { model, version } = req.params;
    let versions = ctx.repository.allVersions();
    if (model !== undefined) {
      versions = ctx.repository.versionsOf(model);
      if (version !== undefined) {
        versions = versions.filter((v) => v.versionString === version);
        if (!versions.length)
          throw notFound(`Request for unknown model: '${model}' version ${version} is not found`);
      }
    }
    versions.sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
    res.json({ model_stats: versions.map((v) => v.stats.toJSON(v.name, v.versionString)) });
  };
  r.get('/v2/models/stats', handler);
  r.get('/v2/models/:model/stats', handler);
  r.get('/v2/models/:model/versions/:version/stats', handler);
  return r;
}
