/**
 * Fuzzing the importer and executor: bytes of 50 conformance models are mutated (bit flips, byte
 * overwrites, truncation, spliced garbage) and each result is loaded and run with the test's own
 * inputs, under a memory limit and a time limit. Every failure must be a TesseraError (nothing
 * else escapes), nothing may hang, and the limits must hold (a run past them would take the process
 * down or time the test out).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importOnnxFile, readValueFile } from '../../src/importers/onnx/index.js';
import { InferenceSession, TesseraError, type Value } from '../../src/index.js';
import { listTests, readPassing } from '../conformance/harness.js';

/** xorshift32: the same mutations on every run. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;
const int = (r: () => number, n: number) => Math.floor(r() * n);
const MUTATIONS: Record<string, Mutation> = {
  flipBits: (b, r) => {
    const o = b.slice();
    for (let k = 0; k < 1 + int(r, 8); k++) o[int(r, o.length)]! ^= 1 << int(r, 8);
    return o;
  },
  overwriteBytes: (b, r) => {
    const o = b.slice();
    const at = int(r, o.length);
    for (let k = 0; k < 1 + int(r, 6) && at + k < o.length; k++) o[at + k] = int(r, 256);
    return o;
  },
  // 0xff runs make varints (lengths, dims, counts) huge.
  bigVarint: (b, r) => {
    const o = b.slice();
    const at = int(r, Math.max(1, o.length - 5));
    o.fill(0xff, at, at + 1 + int(r, 5));
    return o;
  },
  truncate: (b, r) => b.slice(0, int(r, b.length)),
  splice: (b, r) => {
    const at = int(r, b.length);
    const junk = Uint8Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
    return Uint8Array.from([...b.subarray(0, at), ...junk, ...b.subarray(at)]);
  },
};

function pickModels(n: number): { model: string; feeds: Record<string, Value> }[] {
  const passing = new Set(readPassing());
  const all = listTests(['node', 'simple']).filter((c) => passing.has(c.id));
  // Control flow and sequences first (subgraph parsing), then an even spread of the rest.
  const special = all.filter((c) => /loop|scan|_if|sequence|optional/.test(c.id)).slice(0, 10);
  const rest = all.filter((c) => !special.includes(c));
  const step = rest.length / (n - special.length);
  const chosen = [
    ...special,
    ...Array.from({ length: n - special.length }, (_, i) => rest[Math.floor(i * step)]!),
  ];
  return chosen.map((c) => {
    const m = importOnnxFile(c.model);
    const inits = new Set(m.graph.initializers.keys());
    const feeds: Record<string, Value> = {};
    m.graph.inputs
      .filter((i) => !inits.has(i.name))
      .forEach((vi, i) => {
        const f = join(c.dataSets[0]!, `input_${i}.pb`);
        if (existsSync(f)) feeds[vi.name] = readValueFile(f, vi.type);
      });
    return { model: c.model, feeds };
  });
}

test('50 conformance models, each mutated 20 ways: every failure is a TesseraError, no hang, limits hold', {
  timeout: 120_000,
}, async (t) => {
  const models = pickModels(50);
  assert.equal(models.length, 50);
  const r = rng(20260301);
  const outcomes = { loaded: 0, ran: 0, rejected: 0 };
  const codes = new Map<string, number>();
  for (const { model, feeds } of models) {
    // A plain Uint8Array: Buffer#slice would share memory and let mutations pile up.
    const original = new Uint8Array(readFileSync(model));
    for (const [name, mutate] of Object.entries(MUTATIONS).flatMap((m) => [m, m, m, m])) {
      const bytes = mutate(original, r);
      const where = `${model} (${name})`;
      try {
        const s = InferenceSession.fromBytes(bytes, {
          memoryLimitBytes: 64 << 20,
          maxTensorElements: 1 << 22,
          runTimeoutMs: 2000,
        });
        outcomes.loaded++;
        s.runValues(feeds as never);
        outcomes.ran++;
      } catch (e) {
        if (!(e instanceof TesseraError)) assert.fail(`${where}: ${String((e as Error)?.stack ?? e)}`);
        assert.ok(e.message.length > 0, `${where}: empty message`);
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        if (process.env.FUZZ_DEBUG) console.log(where, e.message.slice(0, 200));
        outcomes.rejected++;
      }
    }
  }
  t.diagnostic(`${JSON.stringify(outcomes)} ${JSON.stringify(Object.fromEntries(codes))}`);
  // The mutations must exercise both sides: some models still load and run, many are refused.
  assert.equal(outcomes.ran + outcomes.rejected, 50 * 4 * Object.keys(MUTATIONS).length);
  assert.ok(outcomes.ran > 0, 'no mutated model ran');
  assert.ok(outcomes.loaded > 0, 'no mutated model loaded at all');
  assert.ok(codes.get('INVALID_MODEL')! > 0, 'no mutated model was refused as invalid');
});
