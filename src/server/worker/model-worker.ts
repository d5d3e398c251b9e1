/**
 * A model worker thread: holds InferenceSessions (loaded on first use, keyed per model load) and
 * runs them, so model execution never blocks the server's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { isDType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { errorInfo } from '../errors.js';
import type { ExecTiming, LoadSpec, ModelSignature, TensorSignature } from '../executor.js';
import type { TensorPayload } from '../protocol/types.js';
import type { FromWorker, ToWorker } from './messages.js';

type Runtime = typeof import('../../index.js');
type Session = any;

let runtime: Promise<Runtime> | undefined;
const rt = () => (runtime ??= import('../../index.js'));
const sessions = new Map<string, Promise<Session>>();

function session(key: string, spec: LoadSpec): Promise<Session> {
  let s = sessions.get(key);
  if (!s) {
    s = rt().then(({ InferenceSession }) => InferenceSession.create(spec.file, { device: spec.device }));
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
}

/** Dims as the server reports them: numbers for fixed sizes, -1 for symbolic or unknown ones. */
function dims(shape: unknown): number[] {
  if (!Array.isArray(shape)) return [];
  return shape.map((d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : -1));
}

/** The session's ValueMetadata (onnxruntime's shape: name, isTensor, type, shape) as served signatures. */
function metaList(meta: unknown, names: readonly string[], kind: string): TensorSignature[] {
  const list = (Array.isArray(meta) ? meta : []) as {
    name?: string;
    isTensor?: boolean;
    type?: unknown;
    dtype?: unknown;
    shape?: unknown;
    valueType?: string;
  }[];
  return names.map((name) => {
    const m = list.find((x) => x.name === name);
    if (m?.isTensor === false) {
      throw new TesseraError(
        'UNSUPPORTED',
        `${kind} '${name}' is a ${m.valueType ?? 'non-tensor value'}: the server only serves tensor ${kind}s`,
      );
    }
    const dtype = m?.type ?? m?.dtype;
    if (!isDType(dtype))
      throw new TesseraError('UNSUPPORTED', `${kind} '${name}' has no known tensor element type`);
    return { name, dtype, shape: dims(m?.shape) };
  });
}

function signatureOf(s: Session): ModelSignature {
  return {
    inputs: metaList(s.inputMetadata, s.inputNames, 'input'),
    outputs: metaList(s.outputMetadata, s.outputNames, 'output'),
  };
}

const ns = (from: bigint) => Number(process.hrtime.bigint() - from);

async function run(key: string, spec: LoadSpec, inputs: TensorPayload[], outputs: string[]) {
  const s = await session(key, spec);
  const { Tensor } = await rt();
  let t = process.hrtime.bigint();
  const feeds: Record<string, InstanceType<Runtime['Tensor']>> = {};
  for (const i of inputs) feeds[i.name] = Tensor.fromData(i.data, i.shape, i.dtype);
  const timing: ExecTiming = { inputNs: ns(t), inferNs: 0, outputNs: 0 };
  t = process.hrtime.bigint();
  const result = await s.run(feeds, outputs);
  timing.inferNs = ns(t);
  t = process.hrtime.bigint();
  const out: TensorPayload[] = [];
  for (const name of outputs) {
    const v = result[name];
    if (!v) throw new Error(`the model produced no output '${name}'`);
    let data = await v.data();
    // A view into a larger buffer would clone the whole buffer: send just its elements.
    if (!Array.isArray(data) && data.byteLength !== data.buffer.byteLength) data = data.slice();
    out.push({ name, dtype: v.dtype, shape: [...v.shape], data });
  }
  timing.outputNs = ns(t);
  return { outputs: out, timing };
}

const port = parentPort!;
port.on('message', async (msg: ToWorker) => {
  let reply: FromWorker;
  try {
    switch (msg.type) {
      case 'load':
        reply = { id: msg.id, ok: true, signature: signatureOf(await session(msg.key, msg.spec)) };
        break;
      case 'run':
        reply = { id: msg.id, ok: true, ...(await run(msg.key, msg.spec, msg.inputs, msg.outputs)) };
        break;
      case 'unload': {
        const s = sessions.get(msg.key);
        sessions.delete(msg.key);
        const loaded = await s?.catch(() => undefined);
        await loaded?.release?.();
        reply = { id: msg.id, ok: true };
        break;
      }
    }
  } catch (e) {
    reply = { id: msg.id, ok: false, error: errorInfo(e) };
  }
  port.postMessage(reply);
});
