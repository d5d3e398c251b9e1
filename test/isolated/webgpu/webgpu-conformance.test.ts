/**
 * The WebGPU conformance gate: every case in passing-webgpu.txt still passes with device 'webgpu'
 * (the list only grows; conformance-webgpu.ts --update adds to it). The ONNX node, simple and
 * pytorch suites always run; the light/ model architectures and the real models in
 * ../shared/models take minutes on a software adapter, so they run when TESSERA_WEBGPU_FULL=1.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { listTests } from '../../conformance/harness.js';
import { readWebgpuPassing, runCaseOnGpu } from './conformance-webgpu.js';
import { gpuReady } from './helpers.js';

const listed = new Set(readWebgpuPassing());
const full = process.env.TESSERA_WEBGPU_FULL === '1';

before(async () => {
  await gpuReady();
});

function gate(suites: Parameters<typeof listTests>[0]) {
  return async () => {
    const cases = listTests(suites).filter((c) => listed.has(c.id));
    assert.ok(cases.length > 0, 'no listed cases found: is ../shared there (or TESSERA_SHARED set)?');
    const bad = cases.map(runCaseOnGpu).filter((r) => r.status !== 'passed');
    assert.equal(
      bad.length,
      0,
      `${bad.length} regressions on webgpu:\n${bad.map((r) => `  ${r.id}: ${r.status} ${r.reason ?? ''}`).join('\n')}`,
    );
  };
}

test(
  'listed ONNX node, simple and pytorch conformance cases pass on webgpu',
  gate(['node', 'simple', 'pytorch-converted', 'pytorch-operator']),
);

test(
  'listed light/ architectures and real models pass on webgpu',
  { skip: full ? false : 'set TESSERA_WEBGPU_FULL=1 (minutes on a software adapter)' },
  gate(['light', 'models']),
);
