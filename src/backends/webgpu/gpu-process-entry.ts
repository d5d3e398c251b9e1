/**
 * The GPU worker process (started by gpu-process.ts): initializes WebGPU, then loads and runs
 * InferenceSessions with device 'webgpu' on request. Everything GPU happens in this process, so a
 * crash in Dawn takes down only it; the parent notices the exit and restarts it.
 */
import type { DataArray, DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import type { ChildMsg, ParentMsg, Signature, TensorPayload } from './gpu-process.js';
import { initWebGPU, webgpuStats } from './index.js';

type Session = any;
const sessions = new Map<string, Promise<Session>>();
const send = (m: ChildMsg) => process.send!(m);

function session(key: string, file: string): Promise<Session> {
  let s = sessions.get(key);
  if (!s) {
    s = import('../../runtime/session.js').then(({ InferenceSession }) =>
      InferenceSession.create(file, { device: 'webgpu' }),
    );
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
}

const dims = (shape: unknown) =>
  Array.isArray(shape)
    ? shape.map((d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : -1))
    : [];

function signatures(meta: unknown, names: readonly string[]) {
  const list = (Array.isArray(meta) ? meta : []) as {
    name?: string;
    type?: unknown;
    dtype?: unknown;
    shape?: unknown;
  }[];
  return names.map((name) => {
    const m = list.find((x) => x.name === name);
    return { name, dtype: (m?.type ?? m?.dtype) as DType, shape: dims(m?.shape) };
  });
}

function signatureOf(s: Session): Signature {
  return {
    inputs: signatures(s.inputMetadata, s.inputNames),
    outputs: signatures(s.outputMetadata, s.outputNames),
  };
}

const ns = (from: bigint) => Number(process.hrtime.bigint() - from);

async function run(key: string, file: string, inputs: TensorPayload[], outputs: string[]) {
  const s = await session(key, file);
  const { Tensor } = await import('../../runtime/tensor.js');
  let t = process.hrtime.bigint();
  const feeds: Record<string, unknown> = {};
  for (const i of inputs) feeds[i.name] = Tensor.fromData(i.data, i.shape, i.dtype);
  const timing = { inputNs: ns(t), inferNs: 0, outputNs: 0 };
  t = process.hrtime.bigint();
  const result = await s.run(feeds, outputs);
  timing.inferNs = ns(t);
  t = process.hrtime.bigint();
  const out: TensorPayload[] = [];
  for (const name of outputs) {
    const v = result[name];
    if (!v) throw new TesseraError('INTERNAL', `the model produced no output '${name}'`);
    let data: DataArray = await v.data();
    if (!Array.isArray(data) && data.byteLength !== data.buffer.byteLength) data = data.slice();
    out.push({ name, dtype: v.dtype, shape: [...v.shape], data });
  }
  timing.outputNs = ns(t);
  return { outputs: out, timing };
}

const errorOf = (e: unknown) =>
  e instanceof TesseraError
    ? { code: e.code, message: e.message }
    : { message: e instanceof Error ? e.message : String(e) };

process.on('message', async (msg: ParentMsg) => {
  if (msg.type === 'init') {
    try {
      const info = await initWebGPU({ ...msg.options, log: (line) => send({ type: 'log', line }) });
      send({ type: 'ready', info });
    } catch (e) {
      send({ type: 'init-error', error: errorOf(e) });
    }
    return;
  }
  try {
    switch (msg.type) {
      case 'load':
        send({
          type: 'reply',
          id: msg.id,
          ok: true,
          signature: signatureOf(await session(msg.key, msg.file)),
        });
        break;
      case 'run':
        send({
          type: 'reply',
          id: msg.id,
          ok: true,
          ...(await run(msg.key, msg.file, msg.inputs, msg.outputs)),
          fallbacks: webgpuStats().fallbacks,
        });
        break;
      case 'unload': {
        const s = sessions.get(msg.key);
        sessions.delete(msg.key);
        const loaded = await s?.catch(() => undefined);
        await loaded?.release?.();
        send({ type: 'reply', id: msg.id, ok: true });
        break;
      }
      case 'crash':
        // Test hook: die the way a native crash does (no cleanup, no reply).
        process.kill(process.pid, 'SIGKILL');
        break;
    }
  } catch (e) {
    send({ type: 'reply', id: msg.id, ok: false, error: errorOf(e) });
  }
});

process.on('disconnect', () => process.exit(0));
