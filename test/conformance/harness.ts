/**
 * The ONNX conformance harness: finds the test cases in ../shared (onnx-tests node/, simple/,
 * pytorch-converted/, pytorch-operator/, light/, and the real models in models/), runs one case
 * through InferenceSession, and compares with the expected outputs the way ONNX's backend test
 * runner does (same dtype and shape; floats within atol + rtol*|expected|, NaN equal to NaN; other
 * types exactly). Used by scripts/conformance.ts and test/conformance/*.test.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importOnnxFile, readValueFile } from '../../src/importers/onnx/index.js';
import {
  type GraphOptimizationLevel,
  InferenceSession,
  isTensorValue,
  OptionalValue,
  Tensor,
  TensorSequence,
  TesseraError,
  type Value,
  type ValueType,
} from '../../src/index.js';
import { opId, opProblems, opsetProblems } from '../../src/runtime/passes/index.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared beside the checkout, or $TESSERA_SHARED. */
export function sharedDir(): string {
  return process.env.TESSERA_SHARED
    ? resolve(process.env.TESSERA_SHARED)
    : resolve(REPO_ROOT, '..', 'shared');
}

export const SUITES = ['node', 'simple', 'pytorch-converted', 'pytorch-operator', 'light', 'models'] as const;
export type Suite = (typeof SUITES)[number];

export interface TestCase {
  /** `<suite>/<name>`, the id written to passing.txt. */
  id: string;
  suite: Suite;
  model: string;
  /** Data set directories (input_<i>.pb / output_<i>.pb), or for light/ the one expected output file. */
  dataSets: string[];
  rtol: number;
  atol: number;
  /** light/ models: inputs are generated (arange(n).reshape(shape) / n). */
  generatedInput?: boolean;
}

export type Status = 'passed' | 'failed' | 'unsupported' | 'timeout';

export interface TestResult {
  id: string;
  status: Status;
  reason?: string;
  /** Ops the registry lacks (for unsupported). */
  missingOps?: string[];
  ms: number;
}

/** ONNX backend runner defaults. */
const DEFAULT_RTOL = 1e-3;
const DEFAULT_ATOL = 1e-7;
/** ../shared/models/SOURCES.md: |a-e| <= 1e-4 + 1e-4*|e|. */
const MODELS_TOL = 1e-4;

const dataSetsIn = (dir: string) =>
  readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort((a, b) => Number(a.slice(14)) - Number(b.slice(14)))
    .map((d) => join(dir, d));

/** Every test case of the given suites, sorted by id. */
export function listTests(suites: readonly Suite[] = SUITES): TestCase[] {
  const shared = sharedDir();
  const out: TestCase[] = [];
  for (const suite of suites) {
    if (suite === 'light') {
      const dir = join(shared, 'onnx-tests', 'light');
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.onnx'))) {
        const name = f.slice(0, -5);
        const tol = lightTolerance(name.replace(/^light_/, ''));
        out.push({
          id: `light/${name}`,
          suite,
          model: join(dir, f),
          dataSets: [join(dir, `${name}_output_0.pb`)],
          ...tol,
          generatedInput: true,
        });
      }
      continue;
    }
    const dir = suite === 'models' ? join(shared, 'models') : join(shared, 'onnx-tests', suite);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const tdir = join(dir, name);
      if (!statSync(tdir).isDirectory() || !existsSync(join(tdir, 'model.onnx'))) continue;
      const tol =
        suite === 'models'
          ? { rtol: MODELS_TOL, atol: MODELS_TOL }
          : { rtol: DEFAULT_RTOL, atol: DEFAULT_ATOL };
      out.push({
        id: `${suite}/${name}`,
        suite,
        model: join(tdir, 'model.onnx'),
        dataSets: dataSetsIn(tdir),
        ...tol,
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function lightTolerance(model: string): { rtol: number; atol: number } {
  const f = join(sharedDir(), 'onnx-tests', 'real', `test_${model}`, 'data.json');
  if (!existsSync(f)) return { rtol: DEFAULT_RTOL, atol: DEFAULT_ATOL };
  const j = JSON.parse(readFileSync(f, 'utf8')) as { rtol?: number; atol?: number };
  return { rtol: j.rtol ?? DEFAULT_RTOL, atol: j.atol ?? DEFAULT_ATOL };
}

export interface RunCaseOptions {
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Time limit per run, checked between nodes (a worker timeout backs it up for single long kernels). */
  timeoutMs?: number;
}

/** Runs one test case in this thread. Never throws: failures are results. */
export function runCase(tc: TestCase, opts: RunCaseOptions = {}): TestResult {
  const t0 = performance.now();
  const done = (status: Status, reason?: string, missingOps?: string[]): TestResult => ({
    id: tc.id,
    status,
    reason,
    missingOps,
    ms: Math.round(performance.now() - t0),
  });
  try {
    const model = importOnnxFile(tc.model);
    const opsets = opsetProblems(model);
    if (opsets.length) return done('unsupported', opsets.join('; '));
    const problems = opProblems(model);
    if (problems.length) {
      const missing = [...new Set(problems.map((p) => opId(p.domain, p.opType)))].sort();
      return done('unsupported', problems[0]!.reason, missing);
    }
    const g = model.graph;
    const inits = new Set(g.initializers.keys());
    const inputs = g.inputs.filter((i) => !inits.has(i.name));
    const session = InferenceSession.fromModel(model, {
      graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    });
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
      const got = session.runValues(feeds as never, names, { timeoutMs: opts.timeoutMs });
      for (let i = 0; i < names.length; i++) {
        const diff = compareValues(got[names[i]!], expected[i], tc.rtol, tc.atol);
        if (diff) return done('failed', `data set ${k}, output '${names[i]}': ${diff}`);
      }
    }
    return done('passed');
  } catch (e) {
    const err = e as Error;
    const unsupported = e instanceof TesseraError && e.code === 'UNSUPPORTED';
    return done(unsupported ? 'unsupported' : 'failed', `${err.name}: ${err.message}`.slice(0, 500));
  }
}

/** light/ input: float32 arange(n).reshape(shape) / n, symbolic dims as 1 (SOURCE.md). */
function generatedInput(type: ValueType | undefined): Tensor {
  if (type?.kind !== 'tensor' || !type.shape)
    throw new TesseraError('INVALID_MODEL', 'light model input without a tensor shape');
  const shape = type.shape.map((d) => (typeof d === 'number' ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i / n;
  return Tensor.fromData(data, shape, 'float32');
}

const isFloatType = (d: string) => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

/** Undefined when `got` matches `expected`, else what differs. */
export function compareValues(
  got: Value | undefined,
  expected: Value | undefined,
  rtol: number,
  atol: number,
): string | undefined {
  if (expected instanceof OptionalValue) {
    const g = got instanceof OptionalValue ? got.value : got;
    if (!expected.hasValue) return g === undefined ? undefined : 'expected an empty optional';
    return compareValues(g, expected.value, rtol, atol);
  }
  if (expected instanceof TensorSequence) {
    const g = got instanceof OptionalValue ? got.value : got;
    if (!(g instanceof TensorSequence)) return `expected a sequence, got ${describe(g)}`;
    if (g.length !== expected.length) return `sequence length ${g.length}, expected ${expected.length}`;
    for (let i = 0; i < g.length; i++) {
      const d = compareValues(g.items[i], expected.items[i], rtol, atol);
      if (d) return `item ${i}: ${d}`;
    }
    return undefined;
  }
  if (!expected) return got === undefined ? undefined : 'expected nothing';
  const g = got instanceof OptionalValue ? got.value : got;
  if (!isTensorValue(g)) return `expected a tensor, got ${describe(g)}`;
  if (g.dtype !== expected.dtype) return `dtype ${g.dtype}, expected ${expected.dtype}`;
  if (g.shape.length !== expected.shape.length || g.shape.some((d, i) => d !== expected.shape[i])) {
    return `shape [${g.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  }
  const a = g.dataSync();
  const e = expected.dataSync();
  if (!isFloatType(g.dtype)) {
    for (let i = 0; i < e.length; i++) if (a[i] !== e[i]) return `element ${i} is ${a[i]}, expected ${e[i]}`;
    return undefined;
  }
  const an = g.numbers();
  const en = expected.numbers();
  let bad = 0;
  let first = '';
  let worst = 0;
  for (let i = 0; i < en.length; i++) {
    const x = an[i]!;
    const y = en[i]!;
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    const err = Math.abs(x - y);
    if (!(err <= atol + rtol * Math.abs(y))) {
      if (!bad) first = `element ${i} is ${x}, expected ${y}`;
      bad++;
      if (err > worst || Number.isNaN(err)) worst = err;
    }
  }
  return bad
    ? `${bad}/${en.length} elements differ (max |diff| ${worst.toExponential(2)}); ${first}`
    : undefined;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v instanceof TensorSequence) return 'a sequence';
  if (v instanceof OptionalValue) return 'an optional';
  return 'a tensor';
}

// ---- the pass list -------------------------------------------------------------------------------

export const PASSING_FILE = join(REPO_ROOT, 'test', 'conformance', 'passing.txt');

export function readPassing(): string[] {
  if (!existsSync(PASSING_FILE)) return [];
  return readFileSync(PASSING_FILE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
