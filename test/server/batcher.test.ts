/** The dynamic batcher with a fake executor: batching, splitting, queue limits, timeouts, cancellation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamicBatcher } from '../../src/server/batcher.js';
import { HttpError } from '../../src/server/errors.js';
import type { TensorPayload } from '../../src/server/protocol/types.js';

const timing = { inputNs: 1, inferNs: 2, outputNs: 3 };
const x = (rows: number[][]): TensorPayload => ({
  name: 'x',
  dtype: 'float32',
  shape: [rows.length, rows[0]!.length],
  data: new Float32Array(rows.flat()),
});

/** An executor computing y = x * 10 (row-wise), recording each batch size, taking `ms` per run. */
function fake(ms = 5) {
  const batches: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const execute = async (inputs: TensorPayload[]) => {
    batches.push(inputs[0]!.shape[0]!);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    const t = inputs[0]!;
    const y = Float32Array.from(t.data as Float32Array, (v) => v * 10);
    return { outputs: [{ ...t, name: 'y', data: y }], timing };
  };
  return { execute, batches, maxRunning: () => maxRunning };
}

const queue = { maxQueueSize: 0, defaultTimeoutUs: 0, allowTimeoutOverride: true };

describe('DynamicBatcher', () => {
  it('batches concurrent requests and splits the outputs back per request', async () => {
    const f = fake();
    const execs: number[] = [];
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 8,
      dynamic: { maxQueueDelayUs: 20_000, preferredBatchSizes: [] },
      queue,
      maxInFlight: 1,
      execute: f.execute,
      onExecution: (n) => execs.push(n),
    });
    const rows = Array.from({ length: 12 }, (_, i) => [i, -i]);
    const results = await Promise.all(
      rows.map((r, i) => b.submit({ inputs: [x(i % 3 === 0 ? [r, r] : [r])], outputNames: ['y'] })),
    );
    results.forEach((res, i) => {
      const r = rows[i]!;
      const expected = i % 3 === 0 ? [r, r].flat() : r;
      assert.deepEqual(
        [...(res.outputs[0]!.data as Float32Array)],
        expected.map((v) => v * 10),
      );
      assert.equal(res.outputs[0]!.shape[0], i % 3 === 0 ? 2 : 1);
    });
    const inferences = 16;
    assert.equal(
      f.batches.reduce((a, n) => a + n, 0),
      inferences,
    );
    assert.ok(f.batches.length < 12, `executions ${f.batches.length} should be fewer than requests`);
    assert.ok(f.batches.every((n) => n <= 8));
    assert.deepEqual(execs, f.batches);
  });

  it('dispatches at once when a preferred batch size is reached', async () => {
    const f = fake(1);
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 8,
      dynamic: { maxQueueDelayUs: 10_000_000, preferredBatchSizes: [2] },
      queue,
      maxInFlight: 1,
      execute: f.execute,
    });
    const started = Date.now();
    await Promise.all([
      b.submit({ inputs: [x([[1]])], outputNames: ['y'] }),
      b.submit({ inputs: [x([[2]])], outputNames: ['y'] }),
    ]);
    assert.ok(Date.now() - started < 5000, 'did not wait for the 10 s queue delay');
    assert.deepEqual(f.batches, [2]);
  });

  it('never batches requests whose non-batch shapes differ', async () => {
    const f = fake(1);
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 8,
      dynamic: { maxQueueDelayUs: 5000, preferredBatchSizes: [] },
      queue,
      maxInFlight: 1,
      execute: f.execute,
    });
    const [a, c] = await Promise.all([
      b.submit({ inputs: [x([[1, 2]])], outputNames: ['y'] }),
      b.submit({ inputs: [x([[1, 2, 3]])], outputNames: ['y'] }),
    ]);
    assert.deepEqual(a.outputs[0]!.shape, [1, 2]);
    assert.deepEqual(c.outputs[0]!.shape, [1, 3]);
    assert.equal(f.batches.length, 2);
  });

  it('runs one request per execution without dynamic batching, up to maxInFlight at once', async () => {
    const f = fake(10);
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 8,
      queue,
      maxInFlight: 2,
      execute: f.execute,
    });
    await Promise.all(Array.from({ length: 6 }, () => b.submit({ inputs: [x([[1]])], outputNames: ['y'] })));
    assert.deepEqual(f.batches, [1, 1, 1, 1, 1, 1]);
    assert.equal(f.maxRunning(), 2);
  });

  it('rejects with 503 when the queue is full', async () => {
    const f = fake(30);
    let queued = 0;
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 0,
      queue: { ...queue, maxQueueSize: 2 },
      maxInFlight: 1,
      execute: f.execute,
      onQueueChange: (d) => (queued += d),
    });
    const all = Array.from({ length: 5 }, () => b.submit({ inputs: [x([[1]])], outputNames: ['y'] }));
    const settled = await Promise.allSettled(all);
    const rejected = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    // One runs at once, two wait, the rest are turned away.
    assert.equal(rejected.length, 2);
    for (const r of rejected) {
      assert.ok(r.reason instanceof HttpError);
      assert.equal(r.reason.status, 503);
      assert.match(r.reason.message, /Exceeds maximum queue size/);
    }
    assert.equal(queued, 0);
  });

  it('times out requests that wait too long in the queue', async () => {
    const f = fake(50);
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 0,
      queue,
      maxInFlight: 1,
      execute: f.execute,
    });
    const first = b.submit({ inputs: [x([[1]])], outputNames: ['y'] });
    const second = b.submit({ inputs: [x([[1]])], outputNames: ['y'], timeoutUs: 5000 });
    await assert.rejects(
      second,
      (e: unknown) => e instanceof HttpError && e.status === 503 && /timeout/i.test(e.message),
    );
    await first;
    assert.equal(f.batches.length, 1);
  });

  it('drops a queued request whose client went away', async () => {
    const f = fake(30);
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 0,
      queue,
      maxInFlight: 1,
      execute: f.execute,
    });
    const first = b.submit({ inputs: [x([[1]])], outputNames: ['y'] });
    const ac = new AbortController();
    const second = b.submit({ inputs: [x([[1]])], outputNames: ['y'], signal: ac.signal });
    ac.abort(new Error('gone'));
    await assert.rejects(second, /gone/);
    await first;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(f.batches.length, 1);
  });

  it('fails every request of a batch when the execution fails, and keeps serving', async () => {
    let fail = true;
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 4,
      dynamic: { maxQueueDelayUs: 5000, preferredBatchSizes: [] },
      queue,
      maxInFlight: 1,
      execute: async (inputs) => {
        if (fail) throw new Error('kernel exploded');
        return { outputs: [{ ...inputs[0]!, name: 'y' }], timing };
      },
    });
    const r = await Promise.allSettled(
      [1, 2].map(() => b.submit({ inputs: [x([[1]])], outputNames: ['y'] })),
    );
    assert.deepEqual(
      r.map((s) => s.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    const ok = await b.submit({ inputs: [x([[3]])], outputNames: ['y'] });
    assert.deepEqual([...(ok.outputs[0]!.data as Float32Array)], [3]);
  });

  it('close() rejects queued requests and waits for running ones', async () => {
    const f = fake(20);
    const b = new DynamicBatcher({
      modelName: 'm',
      maxBatchSize: 0,
      queue,
      maxInFlight: 1,
      execute: f.execute,
    });
    const running = b.submit({ inputs: [x([[1]])], outputNames: ['y'] });
    const queued = assert.rejects(
      b.submit({ inputs: [x([[1]])], outputNames: ['y'] }),
      (e: unknown) => e instanceof HttpError && e.status === 503,
    );
    await b.close();
    await running;
    await queued;
    await assert.rejects(b.submit({ inputs: [x([[1]])], outputNames: ['y'] }), /unloaded/);
  });
});
