/**
 * POST /v2/models/{m}[/versions/{v}]/infer: the v2 JSON request, or JSON plus binary tensors
 * (Inference-Header-Content-Length). Records Triton's success/failure counts and durations.
 */
import express, { Router } from 'express';
import type { ServerContext } from '../context.js';
import { type FailureReason, HttpError, unavailable } from '../errors.js';
import { infer } from '../inference.js';
import type { ModelVersion } from '../model-version.js';
import { HEADER_LENGTH, parseInferRequest } from '../protocol/request.js';

type P = { model: string; version?: string };

export function inferRoutes(ctx: ServerContext): Router {
  const r = Router();
  const { repository, metrics, limits } = ctx;
  // Any content type: JSON requests often come without one, binary ones as application/octet-stream.
  const body = express.raw({ type: () => true, limit: limits.maxBodyBytes });

  const handler = async (req: express.Request<P>, res: express.Response) => {
    const started = process.hrtime.bigint();
    let mv = repository.resolve(req.params.model, req.params.version);
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // A client that goes away cancels its queued request.
    res.on('close', () => {
      if (!res.writableFinished)
        abort.abort(new HttpError(499, 'the client closed the connection', 'CANCELED'));
    });
    if (limits.requestTimeoutMs > 0) {
      timer = setTimeout(
        () =>
          abort.abort(
            unavailable(
              `Request timeout expired: no result within ${limits.requestTimeoutMs} ms`,
              'REJECTED',
            ),
          ),
        limits.requestTimeoutMs,
      );
    }
    try {
      const buf = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const parsed = parseInferRequest(buf, req.get(HEADER_LENGTH), limits);
      let out: Awaited<ReturnType<typeof infer>>;
      try {
        out = await infer(mv, parsed, abort.signal, limits.maxRequestMemoryBytes);
      } catch (e) {
        // A request queued on a version that a reload has just replaced (a training job's new
        // version, a model-control load: every version it keeps is loaded afresh) runs on what
        // serves now instead of failing: the newest ready version, or the fresh instance of the
        // version it named. The swap is a rolling update, not an outage. A named version the
        // reload dropped, or a model unloaded outright, still answers 503.
        const next = replacement(mv, e, req.params.version);
        if (!next) throw e;
        mv = next;
        out = await infer(mv, parsed, abort.signal, limits.maxRequestMemoryBytes);
      }
      const ns = Number(process.hrtime.bigint() - started);
      mv.stats.recordSuccess(out.batchSize, ns, out.result.queueNs, out.result.timing);
      metrics.success(mv.name, mv.versionString, out.batchSize, ns, out.result.queueNs, out.result.timing);
      res.status(200).type(out.response.contentType);
      if (out.response.headerLength !== undefined)
        res.set('Inference-Header-Content-Length', String(out.response.headerLength));
      res.send(out.response.body);
    } catch (e) {
      mv.stats.recordFailure(Number(process.hrtime.bigint() - started));
      const reason: FailureReason = e instanceof HttpError ? e.reason : 'BACKEND';
      metrics.failure(mv.name, mv.versionString, reason);
      throw e;
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
  /** What serves the request's model and version now, when `mv` stopped serving under a 503 and another took over. */
  const replacement = (mv: ModelVersion, e: unknown, version?: string): ModelVersion | undefined => {
    if (!(e instanceof HttpError) || e.status !== 503 || mv.ready) return undefined;
    try {
      const next = repository.resolve(mv.name, version);
      return next !== mv ? next : undefined;
    } catch {
      return undefined;
    }
  };
  r.post('/v2/models/:model/infer', body, handler);
  r.post('/v2/models/:model/versions/:version/infer', body, handler);
  return r;
}
