/**
 * Prometheus metrics (prom-client), named as Triton names them so existing dashboards work:
 * nv_inference_* counters with `model` and `version` labels, the pending-request gauge, plus
 * histograms of request and queue latency and of model load time, and the process metrics.
 * Each server has its own registry, so several servers (tests) can live in one process.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FailureReason } from './errors.js';
import type { ExecTiming } from './executor.js';

type L = 'model' | 'version';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestSuccess: Counter<L>;
  readonly requestFailure: Counter<L | 'reason'>;
  readonly inferenceCount: Counter<L>;
  readonly execCount: Counter<L>;
  readonly requestDuration: Counter<L>;
  readonly queueDuration: Counter<L>;
  readonly computeInput: Counter<L>;
  readonly computeInfer: Counter<L>;
  readonly computeOutput: Counter<L>;
  readonly pending: Gauge<L>;
  readonly requestHistogram: Histogram<L>;
  readonly queueHistogram: Histogram<L>;
  readonly batchSize: Histogram<L>;
  readonly loadHistogram: Histogram<L | 'outcome'>;
  readonly modelReady: Gauge<L>;
  /** Requests refused before reaching a route: auth, rate limit, shutdown, input limits. */
  readonly rejected: Counter<'reason'>;
  /** HTTP requests being handled now (health and /metrics excluded); read from `inFlightSource`. */
  readonly httpInFlight: Gauge;
  inFlightSource: () => number = () => 0;
  /** Ops of webgpu models that ran on the CPU (no WebGPU kernel for the case); read from `webgpuFallbackSource`. */
  readonly webgpuFallbacks: Counter<'op'>;
  /** Cumulative CPU fallbacks per op (the GPU worker's registry `fallbackCounts`). */
  webgpuFallbackSource: () => Record<string, number> = () => ({});

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
      new Counter<T>({ name, help, labelNames, registers });
    const labels = ['model', 'version'] as const;
    this.requestSuccess = counter(
      'nv_inference_request_success',
      'Number of successful inference requests, all batch sizes',
      labels,
    );
    this.requestFailure = counter(
      'nv_inference_request_failure',
      'Number of failed inference requests, all batch sizes',
      ['model', 'version', 'reason'] as const,
    );
    this.inferenceCount = counter(
      'nv_inference_count',
      'Number of inferences performed (a batch of n counts n)',
      labels,
    );
    this.execCount = counter(
      'nv_inference_exec_count',
      'Number of model executions performed (a batch counts once)',
      labels,
    );
    this.requestDuration = counter(
      'nv_inference_request_duration_us',
      'Cumulative inference request duration in microseconds (includes cached requests)',
      labels,
    );
    this.queueDuration = counter(
      'nv_inference_queue_duration_us',
      'Cumulative inference queuing duration in microseconds',
      labels,
    );
    this.computeInput = counter(
      'nv_inference_compute_input_duration_us',
      'Cumulative compute input duration in microseconds',
      labels,
    );
    this.computeInfer = counter(
      'nv_inference_compute_infer_duration_us',
      'Cumulative compute inference duration in microseconds',
      labels,
    );
    this.computeOutput = counter(
      'nv_inference_compute_output_duration_us',
      'Cumulative inference compute output duration in microseconds',
      labels,
    );
    this.pending = new Gauge({
      name: 'nv_inference_pending_request_count',
      help: 'Instantaneous number of pending requests awaiting execution per-model.',
      labelNames: labels,
      registers,
    });
    const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.requestHistogram = new Histogram({
      name: 'tessera_inference_request_duration_seconds',
      help: 'Inference request latency in seconds, from receipt to response',
      labelNames: labels,
      buckets: latencyBuckets,
      registers,
    });
    this.queueHistogram = new Histogram({
      name: 'tessera_inference_queue_duration_seconds',
      help: 'Time requests waited in the model queue before execution, in seconds',
      labelNames: labels,
      buckets: latencyBuckets,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'tessera_inference_batch_size',
      help: 'Batch size of each model execution',
      labelNames: labels,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.loadHistogram = new Histogram({
      name: 'tessera_model_load_duration_seconds',
      help: 'Time to load a model version, in seconds',
      labelNames: ['model', 'version', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.modelReady = new Gauge({
      name: 'tessera_model_ready',
      help: '1 while a model version is loaded and ready, 0 otherwise',
      labelNames: labels,
      registers,
    });
    this.rejected = counter(
      'tessera_http_requests_rejected_total',
      'Requests refused before reaching a model: unauthenticated, forbidden, rate_limited, shutting_down, limit',
      ['reason'] as const,
    );
    const self = this;
    this.httpInFlight = new Gauge({
      name: 'tessera_http_requests_in_flight',
      help: 'HTTP requests being handled now (health checks and /metrics excluded)',
      registers,
      collect() {
        this.set(self.inFlightSource());
      },
    });
    // The source's counts only grow, so each scrape adds what is new since the last one.
    const fallbacksSeen = new Map<string, number>();
    this.webgpuFallbacks = new Counter({
      name: 'tessera_webgpu_cpu_fallbacks_total',
      help: 'Ops of webgpu models that ran on the CPU because no WebGPU kernel served the case, per op',
      labelNames: ['op'] as const,
      registers,
      collect() {
        for (const [op, n] of Object.entries(self.webgpuFallbackSource())) {
          const delta = n - (fallbacksSeen.get(op) ?? 0);
          if (delta > 0) this.inc({ op }, delta);
          fallbacksSeen.set(op, Math.max(n, fallbacksSeen.get(op) ?? 0));
        }
      },
    });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  success(
    model: string,
    version: string,
    batchSize: number,
    durationNs: number,
    queueNs: number,
    t: ExecTiming,
  ): void {
    const l = { model, version };
    this.requestSuccess.inc(l);
    this.inferenceCount.inc(l, batchSize);
    this.requestDuration.inc(l, durationNs / 1000);
    this.queueDuration.inc(l, queueNs / 1000);
    this.computeInput.inc(l, t.inputNs / 1000);
    this.computeInfer.inc(l, t.inferNs / 1000);
    this.computeOutput.inc(l, t.outputNs / 1000);
    this.requestHistogram.observe(l, durationNs / 1e9);
    this.queueHistogram.observe(l, queueNs / 1e9);
  }

  /** As in Triton, only successful requests add to the duration counters and histograms. */
  failure(model: string, version: string, reason: FailureReason): void {
    this.requestFailure.inc({ model, version, reason });
  }

  execution(model: string, version: string, batchSize: number): void {
    const l = { model, version };
    this.execCount.inc(l);
    this.batchSize.observe(l, batchSize);
  }

  /** Starts every per-model series at zero, so a scrape shows a model as soon as it loads. */
  initModel(model: string, version: string): void {
    const l = { model, version };
    for (const c of [
      this.requestSuccess,
      this.inferenceCount,
      this.execCount,
      this.requestDuration,
      this.queueDuration,
      this.computeInput,
      this.computeInfer,
      this.computeOutput,
    ]) {
      c.inc(l, 0);
    }
    // Created at 0, never reset: a reload starts a version's fresh instance while the old one's
    // queued requests still count here, and each leaves the gauge as it goes.
    this.pending.inc(l, 0);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
