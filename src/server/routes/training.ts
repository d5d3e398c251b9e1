/**
 * The training API:
 *   POST   /v2/models/{m}[/versions/{v}]/train   start a job (202 with its id; 400 names the bad field)
 *   GET    /v2/training/jobs[?model=m&state=running,queued]   the jobs, newest first
 *   GET    /v2/training/jobs/{id}                  state, epoch, step, loss and metric history, ETA
 *   GET    /v2/training/jobs/{id}/events           server-sent events with live progress
 *   DELETE /v2/training/jobs/{id}                  cancel
 * The request body is described in training/request.ts.
 */
import express, { type Request, type Response, Router } from 'express';
import type { ServerContext } from '../context.js';
import { badRequest } from '../errors.js';
import { HEADER_LENGTH } from '../protocol/request.js';
import type { TrainingManager } from '../training/job-manager.js';
import { parseTrainRequest } from '../training/request.js';
import { JOB_STATES, type JobState } from '../training/types.js';

type P = { model: string; version?: string };

/** How often an idle event stream sends a comment, so proxies keep it open. */
const HEARTBEAT_MS = 15_000;

export function trainingRoutes(ctx: ServerContext, manager: TrainingManager): Router {
  const r = Router();
  const { repository, limits } = ctx;
  const body = express.raw({ type: () => true, limit: limits.maxBodyBytes });

  const submit = async (req: Request<P>, res: Response) => {
    const mv = repository.resolve(req.params.model, req.params.version);
    const buf = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const parsed = parseTrainRequest(buf, req.get(HEADER_LENGTH), limits);
    const job = await manager.submit(mv, parsed);
    res.status(202).location(`/v2/training/jobs/${job.id}`).json(manager.summary(job));
  };
  r.post('/v2/models/:model/train', body, submit);
  r.post('/v2/models/:model/versions/:version/train', body, submit);

  r.get('/v2/training/jobs', (req, res) => {
    const model = typeof req.query.model === 'string' && req.query.model ? req.query.model : undefined;
    let states: JobState[] | undefined;
    if (typeof req.query.state === 'string' && req.query.state) {
      states = req.query.state.split(',').map((s) => s.trim()) as JobState[];
      const bad = states.find((s) => !JOB_STATES.includes(s));
      if (bad) throw badRequest(`state: unknown job state '${bad}', expected ${JOB_STATES.join(', ')}`);
    }
    res.json({ jobs: manager.list({ model, states }).map((j) => manager.summary(j)) });
  });

  r.get('/v2/training/jobs/:id', (req, res) => {
    res.json(manager.detail(manager.get(req.params.id)));
  });

  r.get('/v2/training/jobs/:id/events', (req, res) => {
    manager.get(req.params.id); // 404 before the stream starts
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    let n = 0;
    let open = true;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const stop = () => {
      open = false;
      clearInterval(heartbeat);
    };
    const unsubscribe = manager.subscribe(req.params.id, {
      send(event, data) {
        if (open) res.write(`id: ${++n}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end() {
        if (!open) return;
        stop();
        res.end();
      },
    });
    res.on('close', () => {
      stop();
      unsubscribe();
    });
  });

  r.delete('/v2/training/jobs/:id', async (req, res) => {
    const job = await manager.cancel(req.params.id);
    res.json(manager.detail(job));
  });
  return r;
}
