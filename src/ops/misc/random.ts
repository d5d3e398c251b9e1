/**
 * Random generators: RandomUniform, RandomNormal (shape attribute), RandomUniformLike,
 * RandomNormalLike (shape of the input), Bernoulli (opset 15) and Multinomial (opset 7). They draw
 * from Tessera's generator (src/runtime/random.ts): a `seed` attribute gives a fresh generator
 * seeded from it, so a seeded node is reproducible; without one the default generator is used
 * (seeded by manualSeed). ONNX leaves the generator to the implementation, so the values match
 * other runtimes only in distribution, never element for element.
 */
import { type DType, fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { defaultGenerator, Generator } from '../../runtime/random.js';
import { numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { attrFloat, attrInt, attrInts, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';

/** The generator a node uses: seeded from the float `seed` attribute (all its bits), or the default one. */
export function generatorFor(attrs: Attrs): Generator {
  const seed = attrs.seed;
  if (seed === undefined) return defaultGenerator;
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `random op: seed must be a finite number, got ${String(seed)}`,
    );
  const bits = new Uint32Array(new Float64Array([seed]).buffer);
  return new Generator((bits[0]! ^ Math.imul(bits[1]!, 0x9e3779b1)) >>> 0);
}

function dtypeAttr(op: string, v: unknown, def: DType | undefined, floatOnly: boolean): DType {
  const d = v === undefined ? def : typeof v === 'number' ? ONNX_DTYPE[v] : undefined;
  if (!d || d === 'string' || (floatOnly && !isFloat(d))) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: dtype must name a ${floatOnly ? 'float' : 'numeric or bool'} ONNX type, got ${String(v ?? def)}`,
    );
  }
  return d;
}

type Sampler = (g: Generator, attrs: Attrs) => () => number;
const uniform: Sampler = (g, a) => {
  const low = attrFloat(a, 'low', 0);
  const high = attrFloat(a, 'high', 1);
  return () => low + (high - low) * g.uniform();
};
const normal: Sampler = (g, a) => {
  const mean = attrFloat(a, 'mean', 0);
  const scale = attrFloat(a, 'scale', 1);
  return () => mean + scale * g.normal();
};

function filled(shape: readonly number[], dtype: DType, next: () => number): Tensor {
  const vals = new Float64Array(numel(shape));
  for (let i = 0; i < vals.length; i++) vals[i] = next();
  return Tensor.fromData(fromNumbers(dtype, vals), shape, dtype);
}

for (const [name, sampler] of [
  ['RandomUniform', uniform],
  ['RandomNormal', normal],
] as const) {
  registerOp({
    name,
    since: 1,
    minInputs: 0,
    maxInputs: 0,
    kernels: {
      cpu: (_inputs, attrs) => {
        const shape = attrInts(attrs, 'shape');
        if (!shape || shape.some((d) => !Number.isInteger(d) || d < 0))
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `${name}: attribute 'shape' must list non-negative dims, got ${String(shape)}`,
          );
        const dtype = dtypeAttr(name, attrs.dtype, 'float32', true);
        return [filled(shape, dtype, sampler(generatorFor(attrs), attrs))];
      },
    },
  });
  registerOp({
    name: `${name}Like`,
    since: 1,
    minInputs: 1,
    maxInputs: 1,
    kernels: {
      cpu: (inputs, attrs) => {
        const x = input(inputs, 0, `${name}Like`);
        const dtype = dtypeAttr(`${name}Like`, attrs.dtype, x.dtype, true);
        return [filled(x.shape, dtype, sampler(generatorFor(attrs), attrs))];
      },
    },
  });
}

registerOp({
  name: 'Bernoulli',
  since: 15,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const p = input(inputs, 0, 'Bernoulli');
      if (!isFloat(p.dtype))
        throw new TesseraError('DTYPE_MISMATCH', `Bernoulli: input must be a float tensor, got ${p.dtype}`);
      const dtype = dtypeAttr('Bernoulli', attrs.dtype, p.dtype, false);
      const g = generatorFor(attrs);
      const probs = p.numbers();
      let i = 0;
      return [
        filled(p.shape, dtype, () => {
          const q = probs[i++]!;
          if (!(q >= 0 && q <= 1))
            throw new TesseraError(
              'INVALID_ARGUMENT',
              `Bernoulli: probabilities must be in [0, 1], got ${q}`,
            );
          return g.uniform() < q ? 1 : 0;
        }),
      ];
    },
  },
});

registerOp({
  name: 'Multinomial',
  since: 7,
  minInputs: 1,
  maxInputs: 1,
  defaults: { dtype: 6, sample_size: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Multinomial');
      if (!isFloat(x.dtype) || x.ndim !== 2) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Multinomial: input must be a float [batch, classes] tensor of log-probabilities, got ${x.dtype} of shape [${x.shape.join(', ')}]`,
        );
      }
      const dtype = dtypeAttr('Multinomial', attrs.dtype, 'int32', false);
      if (dtype !== 'int32' && dtype !== 'int64')
        throw new TesseraError('INVALID_ARGUMENT', `Multinomial: dtype must be int32 or int64, got ${dtype}`);
      const samples = attrInt(attrs, 'sample_size', 1);
      const [batch, k] = x.shape as [number, number];
      const logits = x.numbers();
      const g = generatorFor(attrs);
      const out = new Float64Array(batch * samples);
      const cdf = new Float64Array(k);
      for (let b = 0; b < batch; b++) {
        // Unnormalized log-probabilities: softmax weights, shifted by the max for stability.
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < k; j++) m = Math.max(m, logits[b * k + j]!);
        let total = 0;
        for (let j = 0; j < k; j++) {
          total += Math.exp(logits[b * k + j]! - m);
          cdf[j] = total;
        }
        for (let s = 0; s < samples; s++) {
          const u = g.uniform() * total;
          let j = 0;
          while (j < k - 1 && cdf[j]! <= u) j++;
          out[b * samples + s] = j;
        }
      }
      return [Tensor.fromData(fromNumbers(dtype, out), [batch, samples], dtype)];
    },
  },
});
