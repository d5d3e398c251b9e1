/**
 * Load against a running server with autocannon: a mix of valid inference requests for the
 * bundled models (the MLP in JSON, the CNN with binary tensors), and the server's memory read
 * from its own /metrics. Shared by the load test, the soak (`npm run soak`) and the throughput
 * benchmark.
 */
import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  rps: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
  max: number;
}

/** A valid MLP request with `rows` rows (JSON). */
export function mlpBody(rows = 1): string {
  const data = Array.from({ length: rows * 4 }, (_, i) => ((i * 37) % 11) / 10);
  return JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 4], datatype: 'FP32', data }] });
}

/** A valid CNN request with binary input and JSON output: the body and its header length. */
export function cnnBinary(): { body: Buffer; headerLength: number } {
  const image = new Float32Array(784).map((_, i) => ((i * 13) % 17) / 17);
  const head = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'image',
          shape: [1, 1, 28, 28],
          datatype: 'FP32',
          parameters: { binary_data_size: image.byteLength },
        },
      ],
      outputs: [{ name: 'probabilities', parameters: { classification: 3 } }],
    }),
  );
  return { body: Buffer.concat([head, Buffer.from(image.buffer)]), headerLength: head.length };
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Include the CNN (binary tensors) in the mix. */
  cnn?: boolean;
  /** Path and body for a single-request load (the benchmark's peer has only the MLP). */
  only?: { path: string; body: string };
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const mlp = {
    method: 'POST' as const,
    path: '/v2/models/mlp/infer',
    body: mlpBody(),
    headers: { 'content-type': 'application/json' },
  };
  const requests = opts.only
    ? [
        {
          method: 'POST' as const,
          path: opts.only.path,
          body: opts.only.body,
          headers: { 'content-type': 'application/json' },
        },
      ]
    : [mlp, mlp, mlp];
  if (opts.cnn && !opts.only) {
    const c = cnnBinary();
    requests.push({
      method: 'POST',
      path: '/v2/models/mnist_cnn/infer',
      body: c.body as unknown as string,
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(c.headerLength),
      } as any,
    });
  }
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    requests,
    timeout: 30,
  });
  return {
    requests: r.requests.total,
    rps: r.requests.average,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
  };
}

export interface Memory {
  rss: number;
  heapUsed: number;
}

/** The server's resident set and V8 heap in use, from its /metrics (process and nodejs default metrics). */
export async function serverMemory(url: string): Promise<Memory> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`/metrics has no ${name}`);
    return Number(m[1]);
  };
  return { rss: value('process_resident_memory_bytes'), heapUsed: value('nodejs_heap_size_used_bytes') };
}

export const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
