/**
 * The ONNX conformance runner with device 'webgpu': the same test cases as
 * test/conformance/harness.ts (listTests, compareValues), each run through InferenceSession with
 * { device: 'webgpu' } and its outputs read back, plus the ops that fell back to the CPU. The
 * WebGPU pass list (passing-webgpu.txt beside this file) only grows: `--update` adds newly passing
 * cases, never removes any; webgpu-conformance.test.ts checks the listed ones still pass.
 *
 *   node --import tsx test/isolated/webgpu/conformance-webgpu.ts [--suite node,light] [--filter text]
 *        [--update] [--verbose]
 *
 * Writes reports/conformance-webgpu.json (status, reason, CPU fallbacks per case).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWebGPU } from '../../../src/backends/webgpu/index.js';
import { importOnnxFile, readValueFile } from '../../../src/importers/onnx/index.js';
import {
  InferenceSession,
  isTensorValue,
  OptionalValue,
  Tensor,
  TensorSequence,
  TesseraError,
  type Value,
  type ValueType,
} from '../../../src/index.js';
import { fallbackCounts } from '../../../src/ops/registry.js';
import { opId, opProblems, opsetProblems } from '../../../src/runtime/passes/index.js';
import { compareValues, listTests, REPO_ROOT, type Suite, type TestCase } from '../../conformance/harness.js';

export const WEBGPU_PASSING = join(dirname(fileURLToPath(import.meta.url)), 'passing-webgpu.txt');

export interface GpuResult {
  id: string;
  status: 'passed' | 'failed' | 'unsupported';
  reason?: string;
  /** Ops that ran on the CPU (no WebGPU kernel for the case), with counts. */
  fallbacks: Record<string, number>;
  ms: number;
}

export function readWebgpuPassing(): string[] {
  if (!existsSync(WEBGPU_PASSING)) return [];
  return readFileSync(WEBGPU_PASSING, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** A value moved to the CPU (tensors inside sequences and optionals too). */
function toCpu(v: Value | undefined): Value | undefined {
  if (v === undefined) return v;
  if (v instanceof TensorSequence)
    return new TensorSequence(
      v.items.map((t) => toCpu(t)!),
      v.dtype,
    );
  if (v instanceof OptionalValue)
    return v.value ? new OptionalValue(toCpu(v.value) as Tensor | TensorSequence, v.elemType) : v;
  return isTensorValue(v) ? v.to('cpu') : v;
}

/** light/ input: float32 arange(n).reshape(shape) / n, symbolic dims as 1 (as the CPU harness). */
function generatedInput(type: ValueType | undefined): Tensor {
  if (type?.kind !== 'tensor' || !type.shape)
    throw new TesseraError('INVALID_MODEL', 'light model input without a tensor shape');
  const shape = type.shape.map((d) => (typeof d === 'number' ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(
    Float32Array.from({ length: n }, (_, i) => i / n),
    shape,
    'float32',
  );
}

/** Runs one case on the GPU. Never throws: failures are results. */
export function runCaseOnGpu(tc: TestCase): GpuResult {
  const t0 = performance.now();
  const before = new Map(fallbackCounts);
  const done = (status: GpuResult['status'], reason?: string): GpuResult => {
    const fallbacks: Record<string, number> = {};
    for (const [k, v] of fallbackCounts)
      if (v > (before.get(k) ?? 0)) fallbacks[k] = v - (before.get(k) ?? 0);
    return { id: tc.id, status, reason, fallbacks, ms: Math.round(performance.now() - t0) };
  };
  try {
    const model = importOnnxFile(tc.model);
    const problems = [
      ...opsetProblems(model),
      ...opProblems(model).map((p) => `${opId(p.domain, p.opType)}: ${p.reason}`),
    ];
    if (problems.length) return done('unsupported', problems[0]);
    const g = model.graph;
    const inits = new Set(g.initializers.keys());
    const inputs = g.inputs.filter((i) => !inits.has(i.name));
    const session = InferenceSession.fromModel(model, { device: 'webgpu' });
    for (const [k, set] of tc.dataSets.entries()) {
      const feeds: Record<string, Value> = {};
      let expected: Value[];
      if (tc.generatedInput) {
        for (const vi of inputs) feeds[vi.name] = generatedInput(vi.type);
        expected = [readValueFile(set, g.outputs[0]?.type)];
      } else {
        inputs.forEach((vi, i) => {
          const f = join(set, `input_${i}.pb`);
          if (existsSync(f)) feeds[vi.name] = readValueFile(f, vi.type);
        });
        expected = g.outputs.map((o, i) => readValueFile(join(set, `output_${i}.pb`), o.type));
      }
      const names = g.outputs.slice(0, expected.length).map((o) => o.name);
      const got = session.runValues(feeds as never, names);
      for (let i = 0; i < names.length; i++) {
        const diff = compareValues(toCpu(got[names[i]!]), expected[i], tc.rtol, tc.atol);
        if (diff) return done('failed', `data set ${k}, output '${names[i]}': ${diff}`);
      }
    }
    return done('passed');
  } catch (e) {
    const err = e as Error;
    const unsupported = e instanceof TesseraError && e.code === 'UNSUPPORTED';
    return done(unsupported ? 'unsupported' : 'failed', `${err.name}: ${err.message}`.slice(0, 400));
  }
}

async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const flag = (name: string) => process.argv.includes(`--${name}`);
  const suites = (arg('suite')?.split(',') ?? [
    'node',
    'simple',
    'pytorch-converted',
    'pytorch-operator',
    'light',
  ]) as Suite[];
  let cases = listTests(suites);
  const filter = arg('filter');
  if (filter) cases = cases.filter((c) => c.id.includes(filter));
  const info = await initWebGPU({ log: () => {} });
  console.log(
    `WebGPU conformance on ${info.device || info.description} (${info.backend}${info.software ? ', software' : ''}): ${cases.length} cases`,
  );
  const results: GpuResult[] = [];
  const t0 = Date.now();
  for (const tc of cases) {
    const r = runCaseOnGpu(tc);
    results.push(r);
    const fb = Object.keys(r.fallbacks);
    if (flag('verbose') && (r.status !== 'passed' || fb.length)) {
      console.log(
        `${r.status.padEnd(11)} ${r.id} ${fb.length ? `[cpu: ${fb.join(', ')}] ` : ''}${r.reason ?? ''}`,
      );
    }
  }
  const bySuite = new Map<string, Record<string, number>>();
  for (const r of results) {
    const s = r.id.split('/')[0]!;
    const c = bySuite.get(s) ?? { passed: 0, failed: 0, unsupported: 0, noFallback: 0 };
    c[r.status]!++;
    if (r.status === 'passed' && Object.keys(r.fallbacks).length === 0) c.noFallback!++;
    bySuite.set(s, c);
  }
  console.log(
    `\n${'suite'.padEnd(20)}${'passed'.padStart(8)}${'failed'.padStart(8)}${'unsupp.'.padStart(9)}${'no-cpu'.padStart(8)}`,
  );
  for (const [s, c] of bySuite) {
    console.log(
      `${s.padEnd(20)}${String(c.passed).padStart(8)}${String(c.failed).padStart(8)}${String(c.unsupported).padStart(9)}${String(c.noFallback).padStart(8)}`,
    );
  }
  const fellBack = new Map<string, number>();
  for (const r of results)
    for (const op of Object.keys(r.fallbacks)) fellBack.set(op, (fellBack.get(op) ?? 0) + 1);
  if (fellBack.size) {
    console.log(
      `\nops run on the CPU (cases needing each): ${[...fellBack]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  console.log(`\n${results.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  mkdirSync(join(REPO_ROOT, 'reports'), { recursive: true });
  writeFileSync(
    join(REPO_ROOT, 'reports', 'conformance-webgpu.json'),
    `${JSON.stringify(results, null, 1)}\n`,
  );
  if (flag('update')) {
    const listed = new Set(readWebgpuPassing());
    const added = results.filter((r) => r.status === 'passed' && !listed.has(r.id)).map((r) => r.id);
    for (const id of added) listed.add(id);
    const header =
      '# ONNX conformance cases that pass with device webgpu (only grows; see conformance-webgpu.ts)\n';
    writeFileSync(WEBGPU_PASSING, `${header}${[...listed].sort().join('\n')}\n`);
    console.log(`${added.length} cases added to ${WEBGPU_PASSING}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
