/**
 * Pad: modes constant, reflect, edge and wrap (wrap from opset 19). `pads` is [b_0..b_{r-1},
 * e_0..e_{r-1}]: an attribute before opset 11 (`paddings` in opset 1), an int64 input after, limited
 * to the listed `axes` from opset 18. Negative pads crop; the other modes then pad the cropped region.
 */
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, normAxis, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInts, attrString, input, readInts } from '../helpers.js';
import { type Attrs, type KernelContext, type OpInputs, registerOp } from '../registry.js';
import { gatherFlat, movementGrad } from './layout.js';

export type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Source index along one axis for each output position (-1: the constant). */
function axisMap(n: number, begin: number, end: number, mode: PadMode, axis: number): Int32Array {
  const out = n + begin + end;
  const lo = Math.max(0, -begin);
  const m = n - lo - Math.max(0, -end);
  const bp = Math.max(begin, 0);
  const map = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    const s = o - bp;
    if (s >= 0 && s < m) {
      map[o] = lo + s;
      continue;
    }
    if (mode === 'constant') {
      map[o] = -1;
      continue;
    }
    if (m <= 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Pad: mode '${mode}' cannot pad axis ${axis}, which has no elements left to copy`,
      );
    }
    if (mode === 'edge') map[o] = lo + Math.min(Math.max(s, 0), m - 1);
    else if (mode === 'wrap') map[o] = lo + mod(s, m);
    else if (m === 1) map[o] = lo;
    else {
      const p = 2 * (m - 1);
      const r = mod(s, p);
      map[o] = lo + (r >= m ? p - r : r);
    }
  }
  return map;
}

/** Pads `x` with full-rank `pads`; `value` fills constant mode. */
export function padKernel(x: Tensor, pads: readonly number[], mode: PadMode, value: number | string): Tensor {
  const r = x.ndim;
  if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p))) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Pad: pads [${pads.join(', ')}] must hold 2 integers per axis, expected ${2 * r} for input ${fmtShape(x.shape)}`,
    );
  }
  const outShape = x.shape.map((n, d) => n + pads[d]! + pads[d + r]!);
  if (outShape.some((d) => d < 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Pad: pads [${pads.join(', ')}] crop input ${fmtShape(x.shape)} to a negative size ${fmtShape(outShape)}`,
    );
  }
  const maps = x.shape.map((n, d) => axisMap(n, pads[d]!, pads[d + r]!, mode, d));
  const cs = contiguousStrides(x.shape);
  const total = numel(outShape);
  const map = new Int32Array(total);
  if (total > 0) {
    const coord = new Array<number>(r).fill(0);
    for (let i = 0; i < total; i++) {
      let p = 0;
      for (let d = 0; d < r; d++) {
        const s = maps[d]![coord[d]!]!;
        if (s < 0) {
          p = -1;
          break;
        }
        p += s * cs[d]!;
      }
      map[i] = p;
      for (let d = r - 1; d >= 0; d--) {
        if (++coord[d]! < outShape[d]!) break;
        coord[d] = 0;
      }
    }
  }
  return gatherFlat(x, map, outShape, value);
}

function modeOf(attrs: Attrs, ctx: KernelContext): PadMode {
  const mode = attrString(attrs, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Pad: mode must be constant, reflect, edge or wrap, got '${mode}'`,
    );
  }
  if (mode === 'wrap' && ctx.opset < 19) {
    throw new TesseraError('UNSUPPORTED', `Pad: mode 'wrap' needs opset 19, the model uses ${ctx.opset}`);
  }
  return mode;
}

interface PadArgs {
  pads: number[];
  mode: PadMode;
  value: number | string;
}

/** Reads pads (expanded to every axis), mode and the constant for one opset's signature. */
function padArgs(since: number, inputs: OpInputs, attrs: Attrs, ctx: KernelContext): PadArgs {
  const x = input(inputs, 0, 'Pad');
  const mode = modeOf(attrs, ctx);
  if (since < 11) {
    const pads = attrInts(attrs, since === 1 ? 'paddings' : 'pads');
    if (!pads)
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Pad: attribute '${since === 1 ? 'paddings' : 'pads'}' is required`,
      );
    return { pads, mode, value: attrFloat(attrs, 'value', 0) };
  }
  let pads = readInts(input(inputs, 1, 'Pad'));
  const cv = inputs[2];
  let value: number | string = 0;
  if (cv && cv.numel() > 0)
    value = cv.dtype === 'string' ? (cv.dataSync() as string[])[0]! : cv.numbers()[0]!;
  const axesT = since >= 18 ? inputs[3] : undefined;
  if (axesT) {
    const axes = readInts(axesT).map((a) => normAxis(a, x.ndim, 'Pad'));
    if (pads.length !== 2 * axes.length) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Pad: pads has ${pads.length} entries, expected ${2 * axes.length} (2 per axis in axes [${axes.join(', ')}])`,
      );
    }
    const full = new Array<number>(2 * x.ndim).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i]!;
      full[a + x.ndim] = pads[i + axes.length]!;
    });
    pads = full;
  }
  return { pads, mode, value };
}

for (const since of [1, 2, 11, 18]) {
  const maxInputs = since < 11 ? 1 : since < 18 ? 3 : 4;
  registerOp({
    name: 'Pad',
    since,
    minInputs: since < 11 ? 1 : 2,
    maxInputs,
    defaults: since < 11 ? { mode: 'constant', value: 0 } : { mode: 'constant' },
    kernels: {
      cpu: (inputs, attrs, ctx) => {
        const { pads, mode, value } = padArgs(since, inputs, attrs, ctx);
        return [padKernel(inputs[0]!, pads, mode, value)];
      },
    },
    grad: ({ inputs, attrs, opset }, [dy]) => {
      const { pads, mode } = padArgs(since, inputs, attrs, { op: 'Pad', opset, device: 'cpu' });
      const dx = movementGrad(inputs[0]!, dy!, (ids) => padKernel(ids, pads, mode, -1));
      return [dx, ...inputs.slice(1).map(() => null)];
    },
  });
}
