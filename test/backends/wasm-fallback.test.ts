/**
 * Without the WASM build (not compiled, or TESSERA_WASM=0) the CPU kernels fall back to TypeScript:
 * one warning when the build is missing, none when switched off, and the same products either way.
 * Each case runs in a child process, since the kernels load once at import.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]] (by hand), through MatMul, and a float32 Conv.
const SCRIPT = `
import { wasm } from './src/backends/cpu/wasm/runtime.js';
import { tensor, ops } from './src/index.js';
const y = ops.dispatch1('MatMul', [tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]])]);
const c = ops.dispatch1('Conv', [tensor([[[[1, 2], [3, 4]]]]), tensor([[[[1, 1], [1, 1]]]])], {});
console.log(JSON.stringify({ loaded: wasm !== null, y: Array.from(y.dataSync()), c: Array.from(c.dataSync()) }));
`;

function runChild(env: Record<string, string>): {
  out: { loaded: boolean; y: number[]; c: number[] };
  stderr: string;
} {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.trim().split('\n').at(-1)!;
  return { out: JSON.parse(line), stderr: r.stderr };
}

test('a missing build warns once and the TypeScript kernels give the same results', () => {
  const { out, stderr } = runChild({ TESSERA_WASM_DIR: '/nonexistent/tessera-wasm' });
  assert.equal(out.loaded, false);
  assert.deepEqual(out.y, [19, 22, 43, 50]);
  assert.deepEqual(out.c, [10]);
  const warnings = stderr.split('\n').filter((l) => l.includes('TesseraWasm'));
  assert.equal(warnings.length, 1, stderr);
  assert.match(warnings[0]!, /WASM kernels not built .*npm run build:wasm/);
});

test('TESSERA_WASM=0 switches the kernels off without a warning; the default loads them', () => {
  const off = runChild({ TESSERA_WASM: '0' });
  assert.equal(off.out.loaded, false);
  assert.deepEqual(off.out.y, [19, 22, 43, 50]);
  assert.ok(!off.stderr.includes('TesseraWasm'), off.stderr);
  const on = runChild({});
  assert.equal(on.out.loaded, true);
  assert.deepEqual(on.out.y, [19, 22, 43, 50]);
  assert.deepEqual(on.out.c, [10]);
});
