/**
 * Shape inference with symbolic dims. Each rule maps a node's input types (and the values of small
 * constant inputs such as Reshape's shape) to its output types; symbolic dims (strings) pass through
 * where an op copies a dim, and become null (unknown) where arithmetic on them would be needed.
 * Nodes whose inputs are all small constants are evaluated through the registry instead, which
 * resolves shape subgraphs (Shape -> Gather -> Concat -> Reshape) exactly.
 *
 * The same rules give the executor its pre-allocation check: on concrete inputs every dim is a
 * number, so a node's output bytes are known before its kernel runs.
 */
import { ONNX_DTYPE } from '../../ops/cast.js';
import { dispatch } from '../../ops/registry.js';
import { noGrad } from '../autograd.js';
import { type DType, isDType } from '../dtype.js';
import {
  type Dim,
  type Graph,
  isTensorValue,
  type Model,
  metaBytes,
  type Node,
  OptionalValue,
  subgraphsOf,
  TensorSequence,
  type Value,
  type ValueType,
} from '../graph.js';
import { Tensor } from '../tensor.js';

type TT = { kind: 'tensor'; dtype: DType; shape?: Dim[] };
type In = TT | undefined;

function dtypeAttr(v: unknown): DType | undefined {
  if (typeof v === 'number') return ONNX_DTYPE[v]; // the Cast op's table, low-precision types included
  return isDType(v) ? v : undefined;
}

const tensorT = (dtype: DType, shape?: Dim[]): TT =>
  shape ? { kind: 'tensor', dtype, shape } : { kind: 'tensor', dtype };

function num(attrs: Node['attrs'], name: string, def: number): number {
  const v = attrs[name];
  return typeof v === 'number' ? v : def;
}
function ints(attrs: Node['attrs'], name: string): number[] | undefined {
  const v = attrs[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}
const norm = (a: number, r: number) => (a < 0 ? a + r : a);

/** NumPy broadcasting of dims that may be symbolic or unknown. */
export function broadcastDims(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s![s!.length - rank + i];
      if (x === undefined || x === 1) continue;
      if (d === 1) d = x;
      else if (d !== x) {
        if (typeof d === 'number' && typeof x === 'number')
          throw new Error(`not broadcastable: ${d} vs ${x}`);
        // a known number beats a symbol (the symbol must be 1 or equal to it); two symbols: unknown
        d = typeof d === 'number' ? d : typeof x === 'number' ? x : null;
      }
    }
    out.push(d);
  }
  return out;
}

const mulDims = (a: Dim, b: Dim): Dim =>
  typeof a === 'number' && typeof b === 'number' ? a * b : a === 1 ? b : b === 1 ? a : null;
const prodDims = (ds: Dim[]): Dim => ds.reduce<Dim>((a, b) => mulDims(a, b), 1);

/** Output spatial size of a conv/pool window. */
function windowOut(
  inp: Dim,
  k: number,
  stride: number,
  dil: number,
  padBegin: number,
  padEnd: number,
  autoPad: string,
  ceil: boolean,
): Dim {
  if (typeof inp !== 'number') return null;
  const ek = dil * (k - 1) + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(inp / stride);
  if (autoPad === 'VALID') return Math.floor((inp - ek) / stride) + 1;
  const span = inp + padBegin + padEnd - ek;
  if (!ceil) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // The last window must start inside the input or its left padding (PyTorch, ONNX Runtime).
  if ((out - 1) * stride >= inp + padBegin) out--;
  return out;
}

function windowShape(node: Node, x: Dim[], kernel: number[], channels: Dim, ceil: boolean): Dim[] {
  const nsp = kernel.length;
  const strides = ints(node.attrs, 'strides') ?? new Array(nsp).fill(1);
  const dils = ints(node.attrs, 'dilations') ?? new Array(nsp).fill(1);
  const pads = ints(node.attrs, 'pads') ?? new Array(2 * nsp).fill(0);
  const autoPad = String(node.attrs.auto_pad ?? 'NOTSET');
  const out: Dim[] = [x[0] ?? null, channels];
  for (let i = 0; i < nsp; i++) {
    out.push(
      windowOut(
        x[2 + i] ?? null,
        kernel[i]!,
        strides[i] ?? 1,
        dils[i] ?? 1,
        pads[i] ?? 0,
        pads[i + nsp] ?? 0,
        autoPad,
        ceil,
      ),
    );
  }
  return out;
}

function matmulShape(a: Dim[], b: Dim[]): Dim[] {
  const A = a.length === 1 ? [1, a[0]!] : a;
  const B = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastDims([A.slice(0, -2), B.slice(0, -2)]) ?? [];
  const out = [...batch, A[A.length - 2]!, B[B.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function reduceShape(x: Dim[], axes: number[] | undefined, keepdims: boolean, noopEmpty: boolean): Dim[] {
  const r = x.length;
  const ax = axes?.length ? axes.map((a) => norm(a, r)) : noopEmpty ? [] : x.map((_, i) => i);
  const out: Dim[] = [];
  x.forEach((d, i) => {
    if (!ax.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Values of a constant input as numbers (undefined when not constant). */
function cvals(c: Tensor | undefined): number[] | undefined {
  return c ? Array.from(c.numbers()) : undefined;
}

const SAME_AS_INPUT = new Set([
  'Identity',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Relu',
  'ChannelAffine', // com.tessera: X * scale + shift per channel
  'AddRelu', // com.tessera: Relu(A + B), A and B of one shape
  'Sigmoid',
  'Tanh',
  'Erf',
  'Sin',
  'Cos',
  'Tan',
  'Asin',
  'Acos',
  'Atan',
  'Sinh',
  'Cosh',
  'Asinh',
  'Acosh',
  'Atanh',
  'Floor',
  'Ceil',
  'Round',
  'Reciprocal',
  'Sign',
  'Softplus',
  'Softsign',
  'Elu',
  'Selu',
  'LeakyRelu',
  'HardSigmoid',
  'HardSwish',
  'Gelu',
  'Mish',
  'Celu',
  'ThresholdedRelu',
  'Shrink',
  'Clip',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'LRN',
  'InstanceNormalization',
  'GroupNormalization',
  'RMSNormalization',
  'MeanVarianceNormalization',
  'LpNormalization',
  'CumSum',
  'CumProd',
  'Trilu',
  'PRelu',
  'Swish',
  'BitwiseNot',
  'ReverseSequence',
  'ScatterElements',
  'ScatterND',
  'Scatter',
  'Not',
]);
const BROADCAST = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Mod',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'BitShift',
  'BitwiseAnd',
  'BitwiseOr',
  'BitwiseXor',
  'And',
  'Or',
  'Xor',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
]);
const BOOL_OUT = new Set([
  'And',
  'Or',
  'Xor',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'IsNaN',
  'IsInf',
]);
const REDUCE = new Set([
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
]);
/** Reductions whose axes moved from attribute to input at this opset. */
const REDUCE_AXES_INPUT_SINCE: Record<string, number> = { ReduceSum: 13 };

/**
 * Output types of one node from its input types and the values of its constant inputs. Returns
 * undefined entries where a rule does not know; throws nothing (bad shapes give undefined).
 */
export function inferNode(
  node: Node,
  inputs: readonly (ValueType | undefined)[],
  consts: readonly (Tensor | undefined)[],
  opset: number,
): (ValueType | undefined)[] {
  try {
    return inferTensorNode(
      node,
      inputs.map((t) => (t?.kind === 'tensor' ? (t as TT) : undefined)),
      consts,
      opset,
    );
  } catch {
    return [];
  }
}

function inferTensorNode(
  node: Node,
  ins: In[],
  consts: readonly (Tensor | undefined)[],
  opset: number,
): (ValueType | undefined)[] {
  const op = node.opType;
  const a = node.attrs;
  const x = ins[0];
  const xs = x?.shape;
  if (node.domain !== '' && node.domain !== 'com.tessera') return [];
  if (SAME_AS_INPUT.has(op) || op === 'IsNaN' || op === 'IsInf')
    return x ? [tensorT(BOOL_OUT.has(op) ? 'bool' : x.dtype, xs)] : [];
  if (BROADCAST.has(op)) {
    const present = ins.filter((t): t is TT => !!t);
    if (present.length !== ins.length || present.length === 0) return [];
    return [
      tensorT(BOOL_OUT.has(op) ? 'bool' : present[0]!.dtype, broadcastDims(present.map((t) => t.shape))),
    ];
  }
  if (REDUCE.has(op)) {
    if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
    const axesFromInput = opset >= (REDUCE_AXES_INPUT_SINCE[op] ?? 18);
    const axes = axesFromInput ? (node.inputs[1] ? cvals(consts[1]) : []) : ints(a, 'axes');
    if (axes === undefined) return [tensorT(x.dtype)];
    return [
      tensorT(
        x.dtype,
        reduceShape(xs, axes, num(a, 'keepdims', 1) !== 0, num(a, 'noop_with_empty_axes', 0) !== 0),
      ),
    ];
  }
  switch (op) {
    case 'Constant': {
      const v = a.value ?? a.sparse_value;
      if (v && typeof v === 'object' && 'shape' in v)
        return [tensorT((v as Tensor).dtype, [...(v as Tensor).shape])];
      if (typeof a.value_float === 'number') return [tensorT('float32', [])];
      if (typeof a.value_int === 'number') return [tensorT('int64', [])];
      if (Array.isArray(a.value_floats)) return [tensorT('float32', [a.value_floats.length])];
      if (Array.isArray(a.value_ints)) return [tensorT('int64', [a.value_ints.length])];
      if (typeof a.value_string === 'string') return [tensorT('string', [])];
      if (Array.isArray(a.value_strings)) return [tensorT('string', [a.value_strings.length])];
      return [];
    }
    case 'Cast': {
      const to = dtypeAttr(a.to);
      return to && x ? [tensorT(to, xs)] : [];
    }
    case 'CastLike':
      return x && ins[1] ? [tensorT(ins[1].dtype, xs)] : [];
    case 'Where': {
      const [c, p, q] = ins;
      return c && p && q ? [tensorT(p.dtype, broadcastDims([c.shape, p.shape, q.shape]))] : [];
    }
    case 'MatMul':
    case 'FusedMatMul':
    case 'MatMulInteger': {
      const [p, q] = ins;
      if (!p || !q) return [];
      const dt = op === 'MatMulInteger' ? 'int32' : p.dtype;
      return [tensorT(dt, p.shape && q.shape ? matmulShape(p.shape, q.shape) : undefined)];
    }
    case 'Gemm':
    case 'FusedGemm': {
      const [p, q] = ins;
      if (!p || !q) return [];
      if (!p.shape || !q.shape || p.shape.length !== 2 || q.shape.length !== 2) return [tensorT(p.dtype)];
      const m = num(a, 'transA', 0) ? p.shape[1]! : p.shape[0]!;
      const n = num(a, 'transB', 0) ? q.shape[0]! : q.shape[1]!;
      return [tensorT(p.dtype, [m, n])];
    }
    case 'Conv':
    case 'ConvInteger':
    case 'FusedConv': {
      const w = ins[1];
      if (!x || !w || !xs || !w.shape) return x ? [tensorT(op === 'ConvInteger' ? 'int32' : x.dtype)] : [];
      const kernel = ints(a, 'kernel_shape') ?? (w.shape.slice(2) as number[]);
      if (kernel.some((k) => typeof k !== 'number')) return [tensorT(x.dtype)];
      return [
        tensorT(op === 'ConvInteger' ? 'int32' : x.dtype, windowShape(node, xs, kernel, w.shape[0]!, false)),
      ];
    }
    case 'ConvTranspose': {
      const w = ins[1];
      if (!x || !w || !xs || !w.shape) return x ? [tensorT(x.dtype)] : [];
      const nsp = xs.length - 2;
      const group = num(a, 'group', 1);
      const kernel = ints(a, 'kernel_shape') ?? (w.shape.slice(2) as number[]);
      const outShape = ints(a, 'output_shape');
      const channels = mulDims(w.shape[1]!, group);
      if (outShape) return [tensorT(x.dtype, [xs[0]!, channels, ...outShape.slice(-nsp)])];
      const strides = ints(a, 'strides') ?? new Array(nsp).fill(1);
      const dils = ints(a, 'dilations') ?? new Array(nsp).fill(1);
      const pads = ints(a, 'pads') ?? new Array(2 * nsp).fill(0);
      const outPad = ints(a, 'output_padding') ?? new Array(nsp).fill(0);
      const autoPad = String(a.auto_pad ?? 'NOTSET');
      const sp: Dim[] = [];
      for (let i = 0; i < nsp; i++) {
        const d = xs[2 + i]!;
        if (typeof d !== 'number' || typeof kernel[i] !== 'number') sp.push(null);
        else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') sp.push(d * strides[i]!);
        else
          sp.push(
            strides[i]! * (d - 1) + outPad[i]! + (kernel[i]! - 1) * dils[i]! + 1 - pads[i]! - pads[i + nsp]!,
          );
      }
      return [tensorT(x.dtype, [xs[0]!, channels, ...sp])];
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      if (!x || !xs) return x ? [tensorT(x.dtype), tensorT('int64')] : [];
      const kernel = ints(a, 'kernel_shape');
      if (!kernel) return [tensorT(x.dtype)];
      const s = windowShape(node, xs, kernel, xs[1]!, num(a, 'ceil_mode', 0) !== 0);
      return [tensorT(x.dtype, s), tensorT('int64', s)];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
      return x ? [tensorT(x.dtype, xs ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : undefined)] : [];
    case 'BatchNormalization':
    case 'LayerNormalization':
      return x ? [tensorT(x.dtype, xs)] : [];
    case 'Dropout':
      return x ? [tensorT(x.dtype, xs), tensorT('bool', xs)] : [];
    case 'Shape': {
      if (!x || !xs) return [tensorT('int64')];
      const r = xs.length;
      const start = Math.min(Math.max(norm(num(a, 'start', 0), r), 0), r);
      const end = Math.min(Math.max(norm(num(a, 'end', r), r), 0), r);
      return [tensorT('int64', [Math.max(end - start, 0)])];
    }
    case 'Size':
      return [tensorT('int64', [])];
    case 'Reshape': {
      if (!x) return [];
      const spec = opset >= 5 ? cvals(consts[1]) : ints(a, 'shape');
      if (!spec)
        return [
          tensorT(
            x.dtype,
            consts[1]
              ? undefined
              : ins[1]?.shape?.length === 1 && typeof ins[1].shape[0] === 'number'
                ? new Array(ins[1].shape[0]).fill(null)
                : undefined,
          ),
        ];
      const allowzero = num(a, 'allowzero', 0) !== 0;
      const out: Dim[] = spec.map((d, i) =>
        d === 0 && !allowzero ? (xs?.[i] ?? null) : d === -1 ? null : d,
      );
      const neg = spec.indexOf(-1);
      if (neg >= 0 && xs) {
        const total = prodDims(xs);
        const known = prodDims(out.filter((_, i) => i !== neg));
        out[neg] = typeof total === 'number' && typeof known === 'number' && known > 0 ? total / known : null;
      }
      return [tensorT(x.dtype, out)];
    }
    case 'Flatten': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const axis = norm(num(a, 'axis', 1), xs.length);
      return [tensorT(x.dtype, [prodDims(xs.slice(0, axis)), prodDims(xs.slice(axis))])];
    }
    case 'Transpose': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const perm = ints(a, 'perm') ?? xs.map((_, i) => xs.length - 1 - i);
      return [
        tensorT(
          x.dtype,
          perm.map((p) => xs[p]!),
        ),
      ];
    }
    case 'Squeeze': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const axes = (opset >= 13 ? (node.inputs[1] ? cvals(consts[1]) : []) : (ints(a, 'axes') ?? []))?.map(
        (v) => norm(v, xs.length),
      );
      if (!axes) return [tensorT(x.dtype)];
      if (axes.length === 0)
        return [
          tensorT(x.dtype, xs.some((d) => typeof d !== 'number') ? undefined : xs.filter((d) => d !== 1)),
        ];
      return [
        tensorT(
          x.dtype,
          xs.filter((_, i) => !axes.includes(i)),
        ),
      ];
    }
    case 'Unsqueeze': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const raw = opset >= 13 ? cvals(consts[1]) : ints(a, 'axes');
      if (!raw) return [tensorT(x.dtype)];
      const r = xs.length + raw.length;
      const axes = raw.map((v) => norm(v, r));
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) out.push(axes.includes(i) ? 1 : xs[j++]!);
      return [tensorT(x.dtype, out)];
    }
    case 'Concat': {
      const present = ins.filter((t): t is TT => !!t);
      if (!present.length) return [];
      const withShape = present.filter((t) => t.shape);
      if (withShape.length !== present.length) return [tensorT(present[0]!.dtype)];
      const r = withShape[0]!.shape!.length;
      const axis = norm(num(a, 'axis', 0), r);
      const out = [...withShape[0]!.shape!];
      let sum: Dim = 0;
      for (const t of withShape) {
        const d = t.shape![axis]!;
        sum = typeof sum === 'number' && typeof d === 'number' ? sum + d : null;
      }
      out[axis] = sum;
      for (let i = 0; i < r; i++) {
        if (i !== axis && typeof out[i] !== 'number')
          out[i] = withShape.map((t) => t.shape![i]!).find((d) => typeof d === 'number') ?? out[i]!;
      }
      return [tensorT(present[0]!.dtype, out)];
    }
    case 'Split': {
      if (!x || !xs) return [];
      const axis = norm(num(a, 'axis', 0), xs.length);
      const nOut = node.outputs.length;
      const split = opset >= 13 ? (node.inputs[1] ? cvals(consts[1]) : undefined) : ints(a, 'split');
      const d = xs[axis];
      const parts: Dim[] = [];
      if (split) parts.push(...split);
      else if (typeof d === 'number') {
        const numSplits = typeof a.num_outputs === 'number' ? a.num_outputs : nOut;
        const size = Math.ceil(d / numSplits);
        for (let i = 0; i < numSplits; i++) parts.push(Math.max(0, Math.min(size, d - i * size)));
      } else for (let i = 0; i < nOut; i++) parts.push(null);
      return parts.map((p) => {
        const s = [...xs];
        s[axis] = p;
        return tensorT(x.dtype, s);
      });
    }
    case 'Slice': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const r = xs.length;
      const starts = opset >= 10 ? cvals(consts[1]) : ints(a, 'starts');
      const ends = opset >= 10 ? cvals(consts[2]) : ints(a, 'ends');
      const axesV =
        opset >= 10
          ? node.inputs[3]
            ? cvals(consts[3])
            : starts?.map((_, i) => i)
          : (ints(a, 'axes') ?? starts?.map((_, i) => i));
      const steps =
        opset >= 10 ? (node.inputs[4] ? cvals(consts[4]) : starts?.map(() => 1)) : starts?.map(() => 1);
      if (!starts || !ends || !axesV || !steps)
        return [
          tensorT(
            x.dtype,
            xs.map(() => null),
          ),
        ];
      const out = [...xs];
      axesV.forEach((ax, i) => {
        const k = norm(ax, r);
        const d = xs[k];
        if (typeof d !== 'number') {
          out[k] = null;
          return;
        }
        const step = steps[i]!;
        let s = starts[i]!;
        let e = ends[i]!;
        if (s < 0) s += d;
        if (e < 0) e += d;
        if (step > 0) {
          s = Math.min(Math.max(s, 0), d);
          e = Math.min(Math.max(e, 0), d);
          out[k] = Math.max(0, Math.ceil((e - s) / step));
        } else {
          s = Math.min(Math.max(s, -1), d - 1);
          e = Math.min(Math.max(e, -1), d - 1);
          out[k] = Math.max(0, Math.ceil((e - s) / step));
        }
      });
      return [tensorT(x.dtype, out)];
    }
    case 'Gather': {
      const idx = ins[1];
      if (!x || !idx || !xs || !idx.shape) return x ? [tensorT(x.dtype)] : [];
      const axis = norm(num(a, 'axis', 0), xs.length);
      return [tensorT(x.dtype, [...xs.slice(0, axis), ...idx.shape, ...xs.slice(axis + 1)])];
    }
    case 'GatherElements':
      return x && ins[1] ? [tensorT(x.dtype, ins[1].shape)] : [];
    case 'ConstantOfShape': {
      const v = a.value as Tensor | undefined;
      const dt = v && typeof v === 'object' && 'dtype' in v ? v.dtype : 'float32';
      const s = cvals(consts[0]);
      if (s) return [tensorT(dt, s)];
      const n = x?.shape?.[0];
      return [tensorT(dt, typeof n === 'number' ? new Array(n).fill(null) : undefined)];
    }
    case 'Expand': {
      if (!x) return [];
      const s = cvals(consts[1]);
      return [tensorT(x.dtype, s ? broadcastDims([xs, s]) : undefined)];
    }
    case 'Tile': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const reps = cvals(consts[1]);
      return [tensorT(x.dtype, reps ? xs.map((d, i) => mulDims(d, reps[i] ?? 1)) : xs.map(() => null))];
    }
    case 'Range': {
      const [s, l, d] = [cvals(consts[0]), cvals(consts[1]), cvals(consts[2])];
      if (!x) return [];
      if (!s || !l || !d || d[0] === 0) return [tensorT(x.dtype, [null])];
      return [tensorT(x.dtype, [Math.max(0, Math.ceil((l[0]! - s[0]!) / d[0]!))])];
    }
    case 'Pad': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const pads = opset >= 11 ? cvals(consts[1]) : (ints(a, 'pads') ?? ints(a, 'paddings'));
      if (!pads)
        return [
          tensorT(
            x.dtype,
            xs.map(() => null),
          ),
        ];
      const r = xs.length;
      const axes =
        opset >= 18 && node.inputs[3] ? cvals(consts[3])?.map((v) => norm(v, r)) : xs.map((_, i) => i);
      if (!axes)
        return [
          tensorT(
            x.dtype,
            xs.map(() => null),
          ),
        ];
      const out = [...xs];
      axes.forEach((ax, i) => {
        const d = xs[ax]!;
        out[ax] = typeof d === 'number' ? d + pads[i]! + pads[i + axes.length]! : null;
      });
      return [tensorT(x.dtype, out)];
    }
    case 'Resize':
    case 'Upsample': {
      if (!x || !xs) return x ? [tensorT(x.dtype)] : [];
      const sizes = op === 'Resize' ? cvals(consts[3]) : undefined;
      const scales =
        op === 'Resize'
          ? cvals(consts[opset >= 11 ? 2 : 1])
          : opset >= 9
            ? cvals(consts[1])
            : (a.scales as number[]);
      const axes = ints(a, 'axes')?.map((v) => norm(v, xs.length)) ?? xs.map((_, i) => i);
      const out = [...xs];
      if (sizes?.length) {
        for (const [i, ax] of axes.entries()) out[ax] = sizes[i]!;
        if (String(a.keep_aspect_ratio_policy ?? 'stretch') !== 'stretch')
          return [
            tensorT(
              x.dtype,
              xs.map(() => null),
            ),
          ];
      } else if (scales?.length) {
        axes.forEach((ax, i) => {
          const d = xs[ax]!;
          out[ax] = typeof d === 'number' ? Math.floor(d * scales[i]!) : null;
        });
      } else
        return [
          tensorT(
            x.dtype,
            xs.map(() => null),
          ),
        ];
      return [tensorT(x.dtype, out)];
    }
    case 'ArgMax':
    case 'ArgMin': {
      if (!x || !xs) return [tensorT('int64')];
      const axis = norm(num(a, 'axis', 0), xs.length);
      return [tensorT('int64', reduceShape(xs, [axis], num(a, 'keepdims', 1) !== 0, false))];
    }
    case 'TopK': {
      if (!x || !xs) return [];
      const axis = norm(num(a, 'axis', -1), xs.length);
      const k = opset >= 10 ? cvals(consts[1])?.[0] : num(a, 'k', 0);
      const s = [...xs];
      s[axis] = k ?? null;
      return [tensorT(x.dtype, s), tensorT('int64', s)];
    }
    case 'OneHot': {
      const idx = x;
      const values = ins[2];
      if (!idx || !values) return [];
      const depth = cvals(consts[1])?.[0];
      if (!idx.shape) return [tensorT(values.dtype)];
      const r = idx.shape.length + 1;
      const axis = norm(num(a, 'axis', -1), r);
      const s = [...idx.shape];
      s.splice(axis, 0, depth ?? null);
      return [tensorT(values.dtype, s)];
    }
    case 'NonZero':
      return [tensorT('int64', xs ? [xs.length, null] : undefined)];
    case 'EyeLike':
      return x ? [tensorT(dtypeAttr(a.dtype) ?? x.dtype, xs)] : [];
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      if (!x || !xs || xs.length !== 4) return x ? [tensorT(x.dtype)] : [];
      const b = num(a, 'blocksize', 1);
      const [n, c, h, w] = xs;
      const div = (d: Dim, k: number): Dim => (typeof d === 'number' ? d / k : null);
      return op === 'DepthToSpace'
        ? [tensorT(x.dtype, [n!, div(c!, b * b), mulDims(h!, b), mulDims(w!, b)])]
        : [tensorT(x.dtype, [n!, mulDims(c!, b * b), div(h!, b), div(w!, b)])];
    }
    default:
      return [];
  }
}

// ---- whole graphs --------------------------------------------------------------------------------

/** Ops never evaluated ahead of time: random, and those producing non-tensor values or side effects. */
const NOT_FOLDABLE =
  /^(Random|Bernoulli|Multinomial|Sequence|Optional|If$|Loop$|Scan$|SplitToSequence|ConcatFromSequence)/;
const MAX_CONST_ELEMENTS = 1 << 16;

export function isFoldable(node: Node): boolean {
  return (
    !NOT_FOLDABLE.test(node.opType) &&
    subgraphsOf(node).length === 0 &&
    !(node.opType === 'Dropout' && node.inputs[2]) // training_mode input may turn it random
  );
}

/** A value's type read off a concrete runtime value. */
export function typeOfValue(v: Value | undefined): ValueType | undefined {
  if (v === undefined) return undefined;
  if (v instanceof TensorSequence)
    return { kind: 'sequence', elem: v.dtype ? { kind: 'tensor', dtype: v.dtype } : undefined };
  if (v instanceof OptionalValue) return { kind: 'optional', elem: typeOfValue(v.value) ?? v.elemType };
  return { kind: 'tensor', dtype: v.dtype, shape: [...v.shape] };
}

export interface InferenceResult {
  types: Map<string, ValueType>;
  /** Values known ahead of time (initializers, Constant nodes and what folds from them). */
  consts: Map<string, Tensor>;
}

/**
 * Infers every value's type through the graph (and its subgraphs' outputs where rules allow),
 * starting from the graph inputs' types (declared, or `inputTypes` to bind concrete shapes).
 */
export function inferGraph(
  g: Graph,
  opsets: ReadonlyMap<string, number>,
  inputTypes?: ReadonlyMap<string, ValueType>,
  outer?: InferenceResult,
): InferenceResult {
  const types = new Map<string, ValueType>(outer?.types);
  const consts = new Map<string, Tensor>(outer?.consts);
  for (const [k, t] of g.initializers) {
    consts.set(k, t);
    types.set(k, { kind: 'tensor', dtype: t.dtype, shape: [...t.shape] });
  }
  for (const i of g.inputs) {
    const t = inputTypes?.get(i.name) ?? i.type;
    if (t) types.set(i.name, t);
    // A fed graph input overrides its initializer (IR < 4), so it is not a constant.
    if (!g.initializers.has(i.name) || inputTypes?.has(i.name)) consts.delete(i.name);
  }
  for (const [k, vi] of g.valueInfo) if (vi.type && !types.has(k)) types.set(k, vi.type);
  for (const node of g.nodes) {
    const opset = opsets.get(node.domain) ?? 1;
    const ins = node.inputs.map((n) => (n ? types.get(n) : undefined));
    const cs = node.inputs.map((n) => (n ? consts.get(n) : undefined));
    let outs: (ValueType | undefined)[] = inferNode(node, ins, cs, opset);
    // Evaluate nodes whose inputs are all small constants: exact types and values for shape math.
    // Their outputs are sized by the rule first, so a constant huge output is never allocated here.
    const allConst = node.inputs.every((n, i) => !n || cs[i]);
    const small = cs.reduce((s, t) => s + (t ? t.numel() : 0), 0) <= MAX_CONST_ELEMENTS;
    const outBytes = outs.length
      ? outs.reduce<number | undefined>((sum, t) => {
          const b = t?.kind === 'tensor' ? metaBytes(t) : undefined;
          return sum === undefined || b === undefined ? undefined : sum + b;
        }, 0)
      : undefined;
    if (
      allConst &&
      small &&
      outBytes !== undefined &&
      outBytes <= MAX_CONST_ELEMENTS * 8 &&
      isFoldable(node)
    ) {
      const res = tryEvaluate(node, cs, opset);
      if (res) {
        outs = res.map(typeOfValue);
        res.forEach((t, i) => {
          const name = node.outputs[i];
          if (name && t.numel() <= MAX_CONST_ELEMENTS) consts.set(name, t);
        });
      }
    }
    const known = shapeValue(node, ins[0]);
    if (known && node.outputs[0]) consts.set(node.outputs[0], known);
    node.outputs.forEach((name, i) => {
      if (!name) return;
      const declared = g.valueInfo.get(name)?.type;
      const t = mergeTypes(outs[i], declared);
      if (t) types.set(name, t);
    });
  }
  return { types, consts };
}

/** Shape and Size of a value whose dims are all known are constants, whatever its data. */
function shapeValue(node: Node, x: ValueType | undefined): Tensor | undefined {
  if (node.domain !== '' || x?.kind !== 'tensor' || !x.shape || x.shape.some((d) => typeof d !== 'number'))
    return undefined;
  const dims = x.shape as number[];
  if (node.opType === 'Size')
    return Tensor.fromData(BigInt64Array.of(BigInt(dims.reduce((a, b) => a * b, 1))), [], 'int64');
  if (node.opType !== 'Shape') return undefined;
  const r = dims.length;
  const clamp = (v: number) => Math.min(Math.max(norm(v, r), 0), r);
  const start = clamp(num(node.attrs, 'start', 0));
  const end = clamp(num(node.attrs, 'end', r));
  const vals = dims.slice(start, Math.max(start, end));
  return Tensor.fromData(
    BigInt64Array.from(vals, (v) => BigInt(v)),
    [vals.length],
    'int64',
  );
}

/** Runs a node on constant inputs through the registry; undefined when it fails. */
export function tryEvaluate(
  node: Node,
  inputs: readonly (Tensor | undefined)[],
  opset: number,
): Tensor[] | undefined {
  try {
    const out = noGrad(() =>
      dispatch(node.opType, inputs, node.attrs, {
        opset,
        domain: node.domain,
        node: node.name,
        numOutputs: node.outputs.length,
      }),
    );
    return out.every(isTensorValue) && out.length >= node.outputs.filter((o) => o).length ? out : undefined;
  } catch {
    return undefined;
  }
}

/** Inferred type, refined by a declared one where the declaration knows more. */
function mergeTypes(inferred: ValueType | undefined, declared: ValueType | undefined): ValueType | undefined {
  if (!inferred) return declared;
  if (!declared || inferred.kind !== 'tensor' || declared.kind !== 'tensor') return inferred;
  if (!inferred.shape) return declared.shape ? { ...inferred, shape: declared.shape } : inferred;
  if (!declared.shape || declared.shape.length !== inferred.shape.length) return inferred;
  return { ...inferred, shape: inferred.shape.map((d, i) => (d === null ? declared.shape![i]! : d)) };
}

// ---- run-time estimate ---------------------------------------------------------------------------

const SMALL_CONST = 64;

/**
 * Bytes a node's outputs will take given its concrete inputs, from the same rules; undefined when
 * a rule does not know. Small inputs (shapes, axes, pads, scales) are read as values.
 */
export function estimateOutputBytes(
  node: Node,
  inputs: readonly (Value | undefined)[],
  opset: number,
): number | undefined {
  const types = inputs.map(typeOfValue);
  const consts = inputs.map((v) =>
    isTensorValue(v) && v.numel() <= SMALL_CONST && v.dtype !== 'string' && v.device === 'cpu'
      ? v
      : undefined,
  );
  const outs = inferNode(node, types, consts, opset);
  if (outs.length === 0) return undefined;
  let total = 0;
  for (const t of outs) {
    if (t?.kind !== 'tensor') continue;
    const b = metaBytes(t);
    if (b === undefined) return undefined;
    total += b;
  }
  return total;
}

/**
 * The shape-inference pass: records every intermediate value's inferred type in graph.valueInfo
 * (refining declared ones), where metadata, planning and tools read it. Returns how many values it
 * annotated; it changes no node.
 */
export function shapeInference(model: Model): number {
  const { types } = inferGraph(model.graph, model.opsets);
  const g = model.graph;
  const io = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  let n = 0;
  for (const node of g.nodes) {
    for (const o of node.outputs) {
      const t = types.get(o);
      if (!o || !t || io.has(o)) continue;
      g.valueInfo.set(o, { name: o, type: t });
      n++;
    }
  }
  for (const out of g.outputs) {
    const t = types.get(out.name);
    if (t && (!out.type || (out.type.kind === 'tensor' && t.kind === 'tensor' && !out.type.shape)))
      out.type = t;
  }
  return n;
}
