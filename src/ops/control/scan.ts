/**
 * Scan: iterates a body over slices of M scan inputs (along each input's scan axis, forward or
 * reversed), threading N state values, and stacks the body's K scan outputs along their output
 * axes. Opset 9+ has no batch axis; opset 8 has a leading batch axis and an optional sequence_lens
 * input, and runs each batch entry as its own scan.
 */
import { TesseraError } from '../../runtime/errors.js';
import { isTensorValue, type Value } from '../../runtime/graph.js';
import { normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts } from '../helpers.js';
import { type Attrs, type GraphAttr, registerOp } from '../registry.js';
import { own } from './loop.js';
import { graphAttr, type SubgraphRuntime, subgraphRuntime } from './runtime.js';
import { asOutputs, describeValue, sliceAt, stack, tensorBytes, values } from './values.js';

interface ScanSpec {
  inputDirections: number[];
  inputAxes: number[];
  outputDirections: number[];
  outputAxes: number[];
}

/** One scan over full-length inputs; returns N final states and K stacked outputs. */
function scanOnce(
  rt: SubgraphRuntime,
  body: GraphAttr,
  states: readonly (Value | undefined)[],
  scanInputs: readonly Tensor[],
  spec: ScanSpec,
  nOut: number,
  seqLen?: number,
): Value[] {
  const axes = scanInputs.map((t, j) => normAxis(spec.inputAxes[j] ?? 0, t.ndim, 'Scan scan_input_axes'));
  const lens = scanInputs.map((t, j) => t.shape[axes[j]!]!);
  const len = seqLen ?? lens[0] ?? 0;
  lens.forEach((l, j) => {
    if (seqLen === undefined && l !== len) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Scan: scan input ${j} has ${l} steps along its axis, input 0 has ${len}`,
      );
    }
  });
  let cur = [...states];
  const k = nOut - cur.length;
  const outs: Tensor[][] = Array.from({ length: k }, () => []);
  let bytes = 0;
  for (let i = 0; i < len; i++) {
    rt.checkDeadline(`Scan iteration ${i}`);
    const slices = scanInputs.map((t, j) => sliceAt(t, axes[j]!, spec.inputDirections[j] ? len - 1 - i : i));
    const res = rt.runSubgraph(body, [...cur, ...slices], `Scan body, iteration ${i}`);
    if (res.length !== nOut)
      throw new TesseraError(
        'INVALID_MODEL',
        `Scan: the body returned ${res.length} values, expected ${nOut}`,
      );
    cur = res.slice(0, cur.length);
    for (let j = 0; j < k; j++) {
      const v = res[cur.length + j];
      if (!isTensorValue(v))
        throw new TesseraError('INVALID_MODEL', `Scan: scan output ${j} is ${describeValue(v)}`);
      outs[j]!.push(v);
      bytes += tensorBytes(v);
    }
    if (k) rt.checkFits(bytes, `Scan: scan outputs after ${i + 1} iterations`);
  }
  const stacked = outs.map((list, j) => {
    if (list.length === 0)
      throw new TesseraError('INVALID_ARGUMENT', 'Scan: zero iterations leave the scan outputs undefined');
    const ordered = spec.outputDirections[j] ? [...list].reverse() : list;
    const axis = normAxis(spec.outputAxes[j] ?? 0, list[0]!.ndim + 1, 'Scan scan_output_axes');
    return stack(ordered, axis, 'Scan');
  });
  return [...(cur.map(own) as Value[]), ...stacked];
}

function spec(attrs: Attrs, m: number, k: number, dirAttr: string): ScanSpec {
  return {
    inputDirections: attrInts(attrs, dirAttr) ?? new Array(m).fill(0),
    inputAxes: attrInts(attrs, 'scan_input_axes') ?? new Array(m).fill(0),
    outputDirections: attrInts(attrs, 'scan_output_directions') ?? new Array(k).fill(0),
    outputAxes: attrInts(attrs, 'scan_output_axes') ?? new Array(k).fill(0),
  };
}

function bodyOutputCount(body: GraphAttr): number {
  const g = (body as { graph?: { outputs: unknown[] } }).graph;
  return g ? g.outputs.length : 0;
}

registerOp({
  name: 'Scan',
  since: 9,
  minInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const rt = subgraphRuntime(ctx);
      const body = graphAttr(attrs, 'body', 'Scan');
      const m = attrInt(attrs, 'num_scan_inputs');
      const vs = values(inputs);
      const n = vs.length - m;
      if (n < 0)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Scan: num_scan_inputs is ${m}, but there are ${vs.length} inputs`,
        );
      const scanIns = vs.slice(n).map((v, j) => {
        if (!isTensorValue(v))
          throw new TesseraError('INVALID_ARGUMENT', `Scan: scan input ${j} is ${describeValue(v)}`);
        return v;
      });
      const nOut = bodyOutputCount(body);
      return asOutputs(
        scanOnce(rt, body, vs.slice(0, n), scanIns, spec(attrs, m, nOut - n, 'scan_input_directions'), nOut),
      );
    },
  },
});

registerOp({
  name: 'Scan',
  since: 8,
  minInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const rt = subgraphRuntime(ctx);
      const body = graphAttr(attrs, 'body', 'Scan');
      const m = attrInt(attrs, 'num_scan_inputs');
      const vs = values(inputs);
      const seqLens = vs[0];
      const rest = vs.slice(1);
      const n = rest.length - m;
      const tensors = rest.map((v, j) => {
        if (!isTensorValue(v))
          throw new TesseraError('INVALID_ARGUMENT', `Scan: input ${j + 1} is ${describeValue(v)}`);
        return v;
      });
      const batch = tensors[0]?.shape[0] ?? 0;
      const lens = isTensorValue(seqLens) ? Array.from(seqLens.numbers()) : undefined;
      const nOut = bodyOutputCount(body);
      // Opset 8 scans axis 1 (axis 0 is the batch): each entry's slice scans its axis 0.
      const s = spec(attrs, m, nOut - n, 'directions');
      const perBatch: Value[][] = [];
      for (let b = 0; b < batch; b++) {
        const row = tensors.map((t) => sliceAt(t, 0, b));
        perBatch.push(
          scanOnce(
            rt,
            body,
            row.slice(0, n),
            row.slice(n),
            { ...s, inputAxes: [], outputAxes: [] },
            nOut,
            lens?.[b],
          ),
        );
      }
      return asOutputs(
        Array.from({ length: nOut }, (_, j) =>
          stack(
            perBatch.map((r) => r[j] as Tensor),
            0,
            'Scan',
          ),
        ),
      );
    },
  },
});
