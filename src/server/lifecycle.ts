/**
 * Graceful shutdown. When the server starts draining (SIGTERM), readiness turns false, new
 * requests are answered 503 with `Connection: close` (health and /metrics still answer, so probes
 * and the last scrape see the state), requests already running finish within the drain timeout,
 * and the shutdown hooks run meanwhile: the training API registers one that checkpoints its running
 * jobs and marks them interrupted. Then the caller stops the workers and the listener.
 */
import type { RequestHandler } from 'express';

/** A hook gets a signal that aborts when the drain deadline passes; it should finish by then. */
export type ShutdownHook = (deadline: AbortSignal) => Promise<void> | void;

/** Paths that keep answering while draining. */
export function isAlwaysOpen(path: string): boolean {
  return path.startsWith('/v2/health/') || path === '/metrics';
}

export interface DrainReport {
  /** Requests still running when the deadline passed (0 when everything finished). */
  abandoned: number;
  /** Hooks that threw or did not finish in time, by name. */
  failedHooks: string[];
}

export class Lifecycle {
  private draining_ = false;
  private active = 0;
  private idle: (() => void)[] = [];
  private readonly hooks = new Map<string, ShutdownHook>();

  get draining(): boolean {
    return this.draining_;
  }

  /** Requests being handled now (health and metrics excluded). */
  get inFlight(): number {
    return this.active;
  }

  /** Registers a hook run once when draining starts; returns a function that removes it. */
  onShutdown(name: string, hook: ShutdownHook): () => void {
    this.hooks.set(name, hook);
    return () => {
      if (this.hooks.get(name) === hook) this.hooks.delete(name);
    };
  }

  /** Counts requests in flight, and answers 503 to new ones once draining. */
  middleware(onRefused?: () => void): RequestHandler {
    return (req, res, next) => {
      if (isAlwaysOpen(req.path)) {
        next();
        return;
      }
      if (this.draining_) {
        onRefused?.();
        res.setHeader('Connection', 'close');
        res.status(503).json({ error: 'the server is shutting down; retry on another replica' });
        return;
      }
      this.active++;
      // 'close' follows 'finish' on a completed response, and also fires when the client goes away.
      res.once('close', () => {
        if (--this.active === 0) for (const f of this.idle.splice(0)) f();
      });
      next();
    };
  }

  /**
   * Starts draining: runs every hook and waits for requests in flight, both bounded by
   * `timeoutMs`. Resolves with what did not finish; never rejects.
   */
  async drain(timeoutMs: number, log: (m: string) => void = () => {}): Promise<DrainReport> {
    this.draining_ = true;
    const deadline = AbortSignal.timeout(Math.max(1, timeoutMs));
    const timedOut = new Promise<'timeout'>((resolve) =>
      deadline.addEventListener('abort', () => resolve('timeout'), { once: true }),
    );
    const failedHooks: string[] = [];
    const hookRuns = [...this.hooks].map(async ([name, hook]) => {
      try {
        const r = await Promise.race([Promise.resolve().then(() => hook(deadline)), timedOut]);
        if (r === 'timeout') {
          failedHooks.push(name);
          log(`shutdown hook '${name}' did not finish within the drain timeout`);
        }
      } catch (e) {
        failedHooks.push(name);
        log(`shutdown hook '${name}' failed: ${(e as Error).message}`);
      }
    });
    const requests = new Promise<void>((resolve) => {
      if (this.active === 0) resolve();
      else this.idle.push(resolve);
    });
    await Promise.all([Promise.race([requests, timedOut]), ...hookRuns]);
    return { abandoned: this.active, failedHooks };
  }
}
