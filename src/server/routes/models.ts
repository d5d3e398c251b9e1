/**
 * Model metadata, readiness and configuration:
 * GET /v2/models/{m}[/versions/{v}], .../ready, .../config.
 */
import { type Response, Router } from 'express';
import type { ServerContext } from '../context.js';
import { toV2Datatype } from '../datatypes.js';
import { unavailable } from '../errors.js';
import { configToJson } from '../model-config.js';
import type { ModelVersion } from '../model-version.js';

type P = { model: string; version?: string };

export function modelRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { repository } = ctx;

  const metadata = (mv: ModelVersion, versions: string[]) => ({
    name: mv.name,
    versions,
    platform: mv.config.platform,
    inputs: mv.inputs.map((t) => ({
      name: t.name,
      datatype: toV2Datatype(t.dtype),
      shape: mv.servedShape(t),
    })),
    outputs: mv.outputs.map((t) => ({
      name: t.name,
      datatype: toV2Datatype(t.dtype),
      shape: mv.servedShape(t),
    })),
  });

  r.get<'/v2/models/:model', P>('/v2/models/:model', (req, res) => {
    const mv = repository.resolve(req.params.model);
    const versions = repository
      .versionsOf(mv.name)
      .filter((v) => v.ready)
      .map((v) => v.versionString)
      .reverse();
    res.json(metadata(mv, versions));
  });
  r.get<'/v2/models/:model/versions/:version', P>('/v2/models/:model/versions/:version', (req, res) => {
    const mv = repository.resolve(req.params.model, req.params.version);
    res.json(metadata(mv, [mv.versionString]));
  });

  const ready = (req: { params: P }, res: Response) => {
    const mv = repository.resolve(req.params.model, req.params.version);
    res.json({ name: mv.name, ready: true, version: mv.versionString });
  };
  r.get('/v2/models/:model/ready', ready);
  r.get('/v2/models/:model/versions/:version/ready', ready);

  const config = (req: { params: P }, res: Response) => {
    const mv = repository.resolve(req.params.model, req.params.version);
    if (!mv.batcher) throw unavailable(`model '${mv.name}' is not ready`);
    const cfg = { ...mv.config, inputs: mv.inputs, outputs: mv.outputs };
    const instances = Math.min(
      mv.config.instanceCount ?? Number.POSITIVE_INFINITY,
      ctx.repository.concurrency,
    );
    res.json(configToJson(cfg, instances));
  };
  r.get('/v2/models/:model/config', config);
  r.get('/v2/models/:model/versions/:version/config', config);
  return r;
}
