/**
 * Shared pieces of the WebGPU suite: one backend per test process (software adapter allowed), and
 * `compareOp`, which runs an op on the CPU and on the GPU with the same inputs and checks dtype,
 * shape, device and values, and that the GPU run needed no CPU fallback.
 */
import assert from 'node:assert/strict';
import { type AdapterInfo, initWebGPU } from '../../../src/backends/webgpu/index.js';
import { rand, randn, type Tensor } from '../../../src/index.js';
import { type Attrs, dispatch, fallbackCounts } from '../../../src/ops/registry.js';
import { Generator } from '../../../src/runtime/random.js';
import { Tensor as TensorClass } from '../../../src/runtime/tensor.js';

let started: Promise<AdapterInfo> | null = null;
export function gpuReady(): Promise<AdapterInfo> {
  started ??= initWebGPU({ software: 'allow', log: () => {} });
  return started;
}

const gen = new Generator(20240607);
/** Normal random float32 values (seeded: the suite is reproducible). */
export const rn = (shape: number[], scale = 1): Tensor => randn(shape, { generator: gen }).mul(scale);
/** Uniform float32 values in [lo, hi). */
export const ru = (shape: number[], lo: number, hi: number): Tensor =>
  rand(shape, { generator: gen })
    .mul(hi - lo)
    .add(lo);

export interface CompareOptions {
  rtol?: number;
  atol?: number;
  opset?: number;
  domain?: string;
  numOutputs?: number;
  /** The op is expected to fall back to the CPU (explicitly, counted). */
  fallback?: boolean;
}

/** Runs `name` on the CPU and on the GPU and compares every output. Returns the GPU outputs. */
export async function compareOp(
  name: string,
  inputs: (Tensor | undefined)[],
  attrs: Attrs = {},
  o: CompareOptions = {},
): Promise<Tensor[]> {
  await gpuReady();
  const opts = { opset: o.opset, domain: o.domain, numOutputs: o.numOutputs };
  const cpu = dispatch(name, inputs, attrs, opts);
  const before = fallbackCounts.get(name) ?? 0;
  const gpu = dispatch(
    name,
    inputs.map((t) => t?.to('webgpu')),
    attrs,
    opts,
  );
  const after = fallbackCounts.get(name) ?? 0;
  if (o.fallback) assert.ok(after > before, `${name}: expected a counted CPU fallback`);
  else assert.equal(after, before, `${name}: ran on the CPU (fallback) instead of the GPU`);
  assert.equal(gpu.length, cpu.length, `${name}: output count`);
  for (let i = 0; i < cpu.length; i++) {
    const g = gpu[i]!;
    if (name !== 'Shape' && name !== 'Size') assert.equal(g.device, 'webgpu', `${name}: output ${i} device`);
    await assertSameValues(g, cpu[i]!, o.rtol ?? 1e-5, o.atol ?? 1e-5, `${name} output ${i}`);
  }
  return gpu;
}

/** A GPU (or CPU) tensor equals a CPU one: dtype, shape, values within atol + rtol*|expected| (NaN matches NaN; 64-bit ints exactly). */
export async function assertSameValues(
  actual: Tensor,
  expected: Tensor,
  rtol: number,
  atol: number,
  what: string,
): Promise<void> {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  const got =
    actual.device === 'cpu' ? actual : TensorClass.fromData(await actual.data(), actual.shape, actual.dtype);
  if (expected.dtype === 'int64' || expected.dtype === 'uint64') {
    assert.deepEqual(
      Array.from(got.dataSync() as BigInt64Array),
      Array.from(expected.dataSync() as BigInt64Array),
      `${what}: values`,
    );
    return;
  }
  const g = got.numbers();
  const c = expected.numbers();
  assert.equal(g.length, c.length, `${what}: element count`);
  for (let i = 0; i < c.length; i++) {
    const a = g[i]!;
    const e = c[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}: element ${i}: got ${a}, expected ${e}`);
  }
}
