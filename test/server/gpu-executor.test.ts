/**
 * The server's device routing (CPU models stay on the CPU executor, the GPU worker is not started
 * for them) and the webgpu CPU-fallback counter. The GPU worker itself is exercised in
 * test/isolated/webgpu/server-gpu.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelExecutor } from '../../src/server/executor.js';
import { DeviceExecutor } from '../../src/server/gpu-executor.js';
import { ServerMetrics } from '../../src/server/metrics.js';

describe('webgpu in the server', () => {
  it('sends cpu models to the CPU executor without starting a GPU worker', async () => {
    const calls: string[] = [];
    const cpu: ModelExecutor = {
      concurrency: 3,
      async load(key) {
        calls.push(`load ${key}`);
        return { inputs: [], outputs: [] };
      },
      async run(key) {
        calls.push(`run ${key}`);
        return { outputs: [], timing: { inputNs: 0, inferNs: 0, outputNs: 0 } };
      },
      async unload(key) {
        calls.push(`unload ${key}`);
      },
      async close() {
        calls.push('close');
      },
    };
    const exec = new DeviceExecutor({ cpu });
    assert.equal(exec.concurrency, 3);
    assert.equal(exec.gpuFallback, 'cpu');
    await exec.load('m/1#1', { file: 'model.onnx', device: 'cpu' });
    await exec.run('m/1#1', [], []);
    await exec.unload('m/1#1');
    await exec.close();
    assert.deepEqual(calls, ['load m/1#1', 'run m/1#1', 'unload m/1#1', 'close']);
    assert.equal(exec.gpu, undefined);
    assert.deepEqual(exec.fallbackCounts(), {});
  });

  it('exports the CPU fallbacks per op as a counter that follows its source', async () => {
    const m = new ServerMetrics({ processMetrics: false });
    const counts: Record<string, number> = { TopK: 2 };
    m.webgpuFallbackSource = () => counts;
    assert.match((await m.text()).body, /tessera_webgpu_cpu_fallbacks_total\{op="TopK"\} 2/);
    counts.TopK = 5;
    counts.NonZero = 1;
    const body = (await m.text()).body;
    assert.match(body, /tessera_webgpu_cpu_fallbacks_total\{op="TopK"\} 5/);
    assert.match(body, /tessera_webgpu_cpu_fallbacks_total\{op="NonZero"\} 1/);
  });
});
