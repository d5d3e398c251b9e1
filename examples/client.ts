/**
 * A client for the Open Inference Protocol (KServe v2) in TypeScript, with nothing but fetch: checks
 * the server is ready, reads the model's metadata, sends one inference request as JSON and prints
 * the outputs (with the top classes for a classifier).
 *
 *   npx tessera serve --model-repository models &
 *   npx tsx examples/client.ts --model mnist_cnn [--url http://127.0.0.1:8000] [--input image.json] [--json]
 *
 * Without --input, each input gets a made-up pattern of its declared shape (open dims: 1). Set
 * TESSERA_TOKEN (or --token) when the server asks for a bearer token.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}
interface InferOutput extends TensorMeta {
  data: (number | boolean | string)[];
}

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.TESSERA_URL ?? 'http://127.0.0.1:8000' },
    model: { type: 'string', default: 'mnist_cnn' },
    input: { type: 'string' },
    token: { type: 'string', default: process.env.TESSERA_TOKEN },
    json: { type: 'boolean', default: false },
  },
});
const base = values.url!.replace(/\/+$/, '');
const headers: Record<string, string> = { 'Content-Type': 'application/json' };
if (values.token) headers.Authorization = `Bearer ${values.token}`;

/** GET or POST JSON; a non-2xx answer is an error carrying the server's message. */
async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${json.error ?? res.statusText}`);
  return json;
}

/** A deterministic pattern in [0, 1): the same one examples/client.py sends. */
function pattern(n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 101);
}

try {
  await call('/v2/health/ready');
  const server = await call<{ name: string; version: string }>('/v2');
  const meta = await call<{ name: string; versions?: string[]; inputs: TensorMeta[]; outputs: TensorMeta[] }>(
    `/v2/models/${encodeURIComponent(values.model!)}`,
  );
  const given = values.input ? (JSON.parse(readFileSync(values.input, 'utf8')) as unknown) : undefined;
  const inputs = meta.inputs.map((t) => {
    const shape = t.shape.map((d) => (d < 0 ? 1 : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const data =
      given !== undefined && meta.inputs.length === 1
        ? (given as unknown[]).flat(Number.POSITIVE_INFINITY)
        : pattern(n);
    return { name: t.name, shape, datatype: t.datatype, data };
  });
  const result = await call<{ model_name: string; model_version?: string; outputs: InferOutput[] }>(
    `/v2/models/${encodeURIComponent(values.model!)}/infer`,
    { inputs },
  );
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `${server.name} ${server.version}: model ${result.model_name} version ${result.model_version ?? '?'}`,
    );
    for (const o of result.outputs) {
      const nums = o.data.map(Number);
      console.log(
        `${o.name} ${o.datatype}[${o.shape.join(', ')}]: ${nums
          .slice(0, 10)
          .map((v) => v.toFixed(4))
          .join(' ')}${nums.length > 10 ? ' ...' : ''}`,
      );
      if (o.datatype.startsWith('FP') && nums.length > 1) {
        const top = nums
          .map((v, i) => [i, v] as const)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3);
        console.log(`  top: ${top.map(([i, v]) => `${i} (${v.toFixed(4)})`).join(', ')}`);
      }
    }
  }
} catch (e) {
  console.error(`client: ${(e as Error).message}`);
  process.exitCode = 1;
}
