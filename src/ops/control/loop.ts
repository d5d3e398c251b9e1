/**
 * Loop: runs its body while `i < M` and `cond` hold (either may be absent), threading N loop-carried
 * values (tensors, sequences or optionals) through the iterations and stacking the body's K scan
 * outputs along a new first axis. The body sees the enclosing scope's values.
 */
import { full, scalar } from '../../runtime/creation.js';
import { type DType, isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { isSubgraphAttr, isTensorValue, TensorSequence, type Value } from '../../runtime/graph.js';
import type { Tensor } from '../../runtime/tensor.js';
import { registerOp } from '../registry.js';
import { graphAttr, subgraphRuntime } from './runtime.js';
import { asOutputs, describeValue, scalarOf, stack, tensorBytes, values } from './values.js';

/** A fresh object for a value the node returns unchanged. */
export function own(v: Value | undefined): Value | undefined {
  if (isTensorValue(v)) return v.asStrided(v.shape, v.strides);
  if (v instanceof TensorSequence) return new TensorSequence(v.items, v.dtype);
  return v;
}

registerOp({
  name: 'Loop',
  since: 1,
  minInputs: 2,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const rt = subgraphRuntime(ctx);
      const body = graphAttr(attrs, 'body', 'Loop');
      const vs = values(inputs);
      const [mIn, condIn] = vs;
      let trip = Number.POSITIVE_INFINITY;
      if (mIn !== undefined) {
        if (!isTensorValue(mIn) || !isInt(mIn.dtype)) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `Loop: M must be an int64 scalar, got ${describeValue(mIn)}`,
          );
        }
        trip = scalarOf(mIn, 'Loop', 'M');
      }
      let cond = true;
      if (condIn !== undefined) {
        if (!isTensorValue(condIn))
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `Loop: cond must be a bool scalar, got ${describeValue(condIn)}`,
          );
        cond = scalarOf(condIn, 'Loop', 'cond') !== 0;
      }
      let carried = vs.slice(2);
      const n = carried.length;
      const bodyOutputs = isSubgraphAttr(body) ? body.graph.outputs : [];
      const k = Math.max(0, bodyOutputs.length - 1 - n);
      const scans: Tensor[][] = Array.from({ length: k }, () => []);
      let scanBytes = 0;
      for (let i = 0; i < trip && cond; i++) {
        rt.checkDeadline(`Loop iteration ${i}`);
        const outs = rt.runSubgraph(
          body,
          [scalar(i, 'int64'), scalar(cond, 'bool'), ...carried],
          `Loop body, iteration ${i}`,
        );
        if (outs.length !== 1 + n + k) {
          throw new TesseraError(
            'INVALID_MODEL',
            `Loop: the body returned ${outs.length} values, expected ${1 + n + k}`,
          );
        }
        const c = outs[0];
        if (!isTensorValue(c))
          throw new TesseraError('INVALID_MODEL', `Loop: the body's condition output is ${describeValue(c)}`);
        cond = scalarOf(c, 'Loop', "the body's condition output") !== 0;
        carried = outs.slice(1, 1 + n);
        for (let j = 0; j < k; j++) {
          const s = outs[1 + n + j];
          if (!isTensorValue(s))
            throw new TesseraError(
              'INVALID_MODEL',
              `Loop: scan output ${j} is ${describeValue(s)}, expected a tensor`,
            );
          scans[j]!.push(s);
          scanBytes += tensorBytes(s);
        }
        if (k) rt.checkFits(scanBytes, `Loop: scan outputs after ${i + 1} iterations`);
      }
      const stacked = scans.map((list, j) => {
        if (list.length) return stack(list, 0, 'Loop');
        // No iteration ran: an empty tensor with the body output's declared element shape.
        const t = bodyOutputs[1 + n + j]?.type;
        const dtype: DType = t?.kind === 'tensor' ? t.dtype : 'float32';
        const inner =
          t?.kind === 'tensor' && t.shape?.every((d) => typeof d === 'number') ? (t.shape as number[]) : [];
        return full([0, ...inner], 0, { dtype });
      });
      return asOutputs([...carried.map(own), ...stacked]);
    },
  },
});
