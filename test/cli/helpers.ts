/** Runs the CLI in-process with captured output. */
import ort from 'onnxruntime-node';
import { runCli } from '../../src/cli/dispatch.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** onnxruntime-node, the oracle: runs an ONNX file on float32 feeds. */
export async function ortRun(file: string, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  const f: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
  const r = await s.run(f);
  return Object.fromEntries(
    Object.entries(r).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]),
  );
}
