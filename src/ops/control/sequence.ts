/**
 * Sequence ops: SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt, SequenceErase,
 * SequenceLength, SplitToSequence, ConcatFromSequence and SequenceMap. Sequences are immutable
 * TensorSequence values; ops that "modify" one return a new sequence sharing the tensors.
 */
import { int64s, scalar } from '../../runtime/creation.js';
import { type DType, isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { isTensorValue, TensorSequence, type Value } from '../../runtime/graph.js';
import { normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { attrInt } from '../helpers.js';
import { dispatch, dispatch1, registerOp } from '../registry.js';
import { graphAttr, subgraphRuntime } from './runtime.js';
import { asOutputs, describeValue, scalarOf, sequenceInput, tensorInput, values } from './values.js';

/** A position input (int scalar), checked against [-n, n) (or [-n, n] when inserting). */
function position(t: Tensor | undefined, n: number, op: string, inclusive: boolean, def: number): number {
  if (!t) return def;
  if (!isInt(t.dtype))
    throw new TesseraError('DTYPE_MISMATCH', `${op}: position must be int32 or int64, got ${t.dtype}`);
  const p = scalarOf(t, op, 'position');
  const hi = inclusive ? n : n - 1;
  if (p < -n || p > hi) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: position ${p} is out of range for a sequence of length ${n}`,
    );
  }
  return p < 0 ? p + n : p;
}

function checkElem(seq: TensorSequence, t: Tensor, op: string): void {
  if (seq.dtype && seq.dtype !== t.dtype) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${op}: the sequence holds ${seq.dtype}, the tensor is ${t.dtype}`,
    );
  }
}

registerOp({
  name: 'SequenceEmpty',
  since: 11,
  maxInputs: 0,
  kernels: {
    cpu: (_inputs, attrs) => {
      const d = attrs.dtype === undefined ? 'float32' : ONNX_DTYPE[attrs.dtype as number];
      if (!d)
        throw new TesseraError('UNSUPPORTED', `SequenceEmpty: unsupported dtype ${String(attrs.dtype)}`);
      return asOutputs([new TensorSequence([], d as DType)]);
    },
  },
});

registerOp({
  name: 'SequenceConstruct',
  since: 11,
  minInputs: 1,
  kernels: {
    cpu: (inputs) => {
      const ts = inputs.map((_, i) => tensorInput(inputs, i, 'SequenceConstruct'));
      for (const [i, t] of ts.entries()) {
        if (t.dtype !== ts[0]!.dtype) {
          throw new TesseraError(
            'DTYPE_MISMATCH',
            `SequenceConstruct: input ${i} is ${t.dtype}, input 0 is ${ts[0]!.dtype}`,
          );
        }
      }
      return asOutputs([new TensorSequence(ts)]);
    },
  },
});

registerOp({
  name: 'SequenceInsert',
  since: 11,
  minInputs: 2,
  maxInputs: 3,
  kernels: {
    cpu: (inputs) => {
      const seq = sequenceInput(inputs, 0, 'SequenceInsert');
      const t = tensorInput(inputs, 1, 'SequenceInsert', 'tensor');
      checkElem(seq, t, 'SequenceInsert');
      const items = [...seq.items];
      const p = position(inputs[2], items.length, 'SequenceInsert', true, items.length);
      items.splice(p, 0, t);
      return asOutputs([new TensorSequence(items, seq.dtype ?? t.dtype)]);
    },
  },
});

registerOp({
  name: 'SequenceAt',
  since: 11,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs) => {
      const seq = sequenceInput(inputs, 0, 'SequenceAt');
      const p = position(
        tensorInput(inputs, 1, 'SequenceAt', 'position'),
        seq.length,
        'SequenceAt',
        false,
        0,
      );
      const v = seq.items[p]!;
      return asOutputs([isTensorValue(v) ? v.asStrided(v.shape, v.strides) : v]);
    },
  },
});

registerOp({
  name: 'SequenceErase',
  since: 11,
  minInputs: 1,
  maxInputs: 2,
  kernels: {
    cpu: (inputs) => {
      const seq = sequenceInput(inputs, 0, 'SequenceErase');
      const items = [...seq.items];
      if (items.length === 0)
        throw new TesseraError('INVALID_ARGUMENT', 'SequenceErase: the sequence is empty');
      items.splice(position(inputs[1], items.length, 'SequenceErase', false, items.length - 1), 1);
      return asOutputs([new TensorSequence(items, seq.dtype)]);
    },
  },
});

registerOp({
  name: 'SequenceLength',
  since: 11,
  minInputs: 1,
  maxInputs: 1,
  kernels: { cpu: (inputs) => [scalar(sequenceInput(inputs, 0, 'SequenceLength').length, 'int64')] },
});

registerOp({
  name: 'SplitToSequence',
  since: 11,
  minInputs: 1,
  maxInputs: 2,
  defaults: { axis: 0, keepdims: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = tensorInput(inputs, 0, 'SplitToSequence');
      const axis = normAxis(attrInt(attrs, 'axis', 0), x.ndim, 'SplitToSequence');
      const dim = x.shape[axis]!;
      const split = inputs[1];
      let sizes: number[];
      if (!split) {
        // No split: size-1 pieces, squeezed unless keepdims.
        const pieces = dispatch('Split', [x, int64s(new Array(dim).fill(1))], { axis }, { numOutputs: dim });
        const keep = attrInt(attrs, 'keepdims', 1) !== 0;
        return asOutputs([
          new TensorSequence(
            keep ? pieces : pieces.map((p) => dispatch1('Squeeze', [p, int64s([axis])])),
            x.dtype,
          ),
        ]);
      }
      const s = Array.from(split.numbers());
      if (split.ndim === 0) {
        const chunk = s[0]!;
        if (!(chunk > 0))
          throw new TesseraError('INVALID_ARGUMENT', `SplitToSequence: split must be positive, got ${chunk}`);
        sizes = [];
        for (let left = dim; left > 0; left -= chunk) sizes.push(Math.min(chunk, left));
      } else sizes = s;
      if (sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((v) => v < 0)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `SplitToSequence: split [${sizes.join(', ')}] does not add up to dim ${axis} (${dim})`,
        );
      }
      const pieces = sizes.length
        ? dispatch('Split', [x, int64s(sizes)], { axis }, { numOutputs: sizes.length })
        : [];
      return asOutputs([new TensorSequence(pieces, x.dtype)]);
    },
  },
});

registerOp({
  name: 'ConcatFromSequence',
  since: 11,
  minInputs: 1,
  maxInputs: 1,
  defaults: { new_axis: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const seq = sequenceInput(inputs, 0, 'ConcatFromSequence');
      const ts = seq.items.map((v, i) => {
        if (!isTensorValue(v))
          throw new TesseraError('INVALID_ARGUMENT', `ConcatFromSequence: item ${i} is ${describeValue(v)}`);
        return v;
      });
      if (ts.length === 0)
        throw new TesseraError('INVALID_ARGUMENT', 'ConcatFromSequence: the sequence is empty');
      const newAxis = attrInt(attrs, 'new_axis', 0) !== 0;
      const rank = ts[0]!.ndim + (newAxis ? 1 : 0);
      const axis = normAxis(attrInt(attrs, 'axis'), rank, 'ConcatFromSequence');
      const parts = newAxis ? ts.map((t) => dispatch1('Unsqueeze', [t, int64s([axis])])) : ts;
      return [dispatch1('Concat', parts, { axis })];
    },
  },
});

registerOp({
  name: 'SequenceMap',
  since: 17,
  minInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const rt = subgraphRuntime(ctx);
      const body = graphAttr(attrs, 'body', 'SequenceMap');
      const vs = values(inputs);
      const first = sequenceInput(inputs, 0, 'SequenceMap');
      const n = first.length;
      vs.forEach((v, i) => {
        if (v instanceof TensorSequence && v.length !== n) {
          throw new TesseraError(
            'SHAPE_MISMATCH',
            `SequenceMap: input ${i} has ${v.length} items, input 0 has ${n}`,
          );
        }
      });
      const results: Value[][] = [];
      for (let i = 0; i < n; i++) {
        rt.checkDeadline(`SequenceMap item ${i}`);
        const args = vs.map((v) => (v instanceof TensorSequence ? v.items[i] : v));
        results.push(rt.runSubgraph(body, args, `SequenceMap body, item ${i}`));
      }
      const nOut = (body as { graph?: { outputs: unknown[] } }).graph?.outputs.length ?? 0;
      return asOutputs(
        Array.from({ length: nOut }, (_, j) => {
          const items = results.map((r) => r[j]!);
          const t = (
            body as {
              graph?: { outputs: { type?: { kind: string; elem?: { kind: string; dtype?: DType } } }[] };
            }
          ).graph?.outputs[j]?.type;
          const dtype =
            t?.kind === 'sequence' && t.elem?.kind === 'tensor'
              ? t.elem.dtype
              : t?.kind === 'tensor'
                ? (t as { dtype?: DType }).dtype
                : undefined;
          return new TensorSequence(items, dtype);
        }),
      );
    },
  },
});
