/**
 * RotaryEmbedding (opset 23): rotates pairs of features of each head by position-dependent
 * angles. Input [B, H, S, D] or [B, S, H*D] (num_heads given); the first rotary_embedding_dim
 * features (default all) rotate, as halves (x1 = first half, x2 = second) or interleaved pairs
 * (x1 = even, x2 = odd): real = cos x1 - sin x2, imag = sin x1 + cos x2. cos/sin come from the
 * caches [max_pos, rot/2] at position_ids [B, S], or are given per token as [B, S, rot/2].
 * The map is linear in the input, so its gradient is the same rotation with -sin.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { rounderFor } from './precision.js';

const OP = 'RotaryEmbedding';
const fail = (msg: string): never => {
  throw new TesseraError('SHAPE_MISMATCH', `${OP}: ${msg}`);
};

function rotaryKernel(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const x = input(inputs, 0, OP);
  const cosT = input(inputs, 1, OP);
  const sinT = input(inputs, 2, OP);
  const pos = inputs[3];
  expectFloat(OP, 'input', x);
  expectSameDType(OP, [x, cosT, sinT]);
  let B: number;
  let S: number;
  let H: number;
  let D: number;
  // Element (b, s, h, d) sits at b*sb + s*ss + h*sh + d.
  let sb: number;
  let ss: number;
  let sh: number;
  if (x.ndim === 4) {
    [B, H, S, D] = x.shape as [number, number, number, number];
    [sb, sh, ss] = [H * S * D, S * D, D];
  } else if (x.ndim === 3) {
    const heads = attrInt(attrs, 'num_heads', 0);
    if (heads <= 0) fail('num_heads (a positive int) is required for a 3-D input');
    [B, S] = x.shape as [number, number];
    H = heads;
    if (x.shape[2]! % H !== 0) fail(`hidden size ${x.shape[2]} is not divisible by num_heads ${H}`);
    D = x.shape[2]! / H;
    [sb, ss, sh] = [S * H * D, H * D, D];
  } else {
    return fail(`input must have rank 3 or 4, got ${fmtShape(x.shape)}`);
  }
  const rot = attrInt(attrs, 'rotary_embedding_dim', 0) || D;
  if (rot > D || rot % 2 !== 0)
    fail(`rotary_embedding_dim ${rot} must be even and at most the head size ${D}`);
  const half = rot / 2;
  const cv = floats(cosT);
  const sv = floats(sinT);
  // Offset of the cos/sin row of token (b, s).
  let row: (b: number, s: number) => number;
  if (pos) {
    if (pos.ndim !== 2 || pos.shape[0] !== B || pos.shape[1] !== S) {
      fail(`position_ids must have shape [${B}, ${S}], got ${fmtShape(pos.shape)}`);
    }
    if (
      cosT.ndim !== 2 ||
      cosT.shape[1] !== half ||
      sinT.ndim !== 2 ||
      sinT.shape[1] !== half ||
      sinT.shape[0] !== cosT.shape[0]
    ) {
      fail(
        `with position_ids, cos_cache and sin_cache must have shape [max_position, ${half}], got ${fmtShape(cosT.shape)} and ${fmtShape(sinT.shape)}`,
      );
    }
    const p = pos.numbers();
    const maxPos = cosT.shape[0]!;
    row = (b, s) => {
      const v = p[b * S + s]!;
      if (!(v >= 0 && v < maxPos)) {
        throw new TesseraError('INVALID_ARGUMENT', `${OP}: position id ${v} is out of range [0, ${maxPos})`);
      }
      return v * half;
    };
  } else {
    const want = [B, S, half];
    for (const [n, t] of [
      ['cos_cache', cosT],
      ['sin_cache', sinT],
    ] as const) {
      if (t.ndim !== 3 || t.shape.some((d, i) => d !== want[i])) {
        fail(`without position_ids, ${n} must have shape ${fmtShape(want)}, got ${fmtShape(t.shape)}`);
      }
    }
    row = (b, s) => (b * S + s) * half;
  }
  const interleaved = attrInt(attrs, 'interleaved', 0) !== 0;
  const r = rounderFor(x.dtype);
  const xv = floats(x);
  const out = Float64Array.from(xv);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < S; s++) {
      const cr = row(b, s);
      for (let h = 0; h < H; h++) {
        const base = b * sb + s * ss + h * sh;
        for (let i = 0; i < half; i++) {
          const i1 = base + (interleaved ? 2 * i : i);
          const i2 = base + (interleaved ? 2 * i + 1 : i + half);
          const [c, sn, x1, x2] = [cv[cr + i]!, sv[cr + i]!, xv[i1]!, xv[i2]!];
          out[i1] = r(r(c * x1) - r(sn * x2));
          out[i2] = r(r(sn * x1) + r(c * x2));
        }
      }
    }
  return [Tensor.fromData(fromNumbers(x.dtype, out), x.shape, x.dtype)];
}

registerOp({
  name: OP,
  since: 23,
  minInputs: 3,
  maxInputs: 4,
  defaults: { interleaved: 0, rotary_embedding_dim: 0, num_heads: 0 },
  kernels: { cpu: rotaryKernel },
  // Rotating back (angle -theta) is the adjoint; the caches get no gradient.
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1(OP, [dy!, inputs[1], dispatch1('Neg', [inputs[2]!]), inputs[3]], attrs),
    null,
    null,
    null,
  ],
});
