/**
 * TensorScatter (opset 24): the KV-cache update. A copy of past_cache with `update` written along
 * the sequence `axis` from write_indices[b] (0 when absent) for each batch entry b; in 'circular'
 * mode positions wrap modulo the cache length, in 'linear' mode they must fit.
 */
import { isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, normAxis, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrString, expectDType, expectSameDType, input, readInts } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './layout.js';
import { scatterInto } from './scatter.js';

/** The flat position in past_cache of every update element. */
export function tensorScatterTargets(
  past: Tensor,
  update: Tensor,
  writeIndices: Tensor | undefined,
  attrs: Attrs,
): Int32Array {
  const op = 'TensorScatter';
  if (past.ndim < 2)
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: past_cache must have rank >= 2, got ${fmtShape(past.shape)}`,
    );
  const axis = normAxis(attrInt(attrs, 'axis', -2), past.ndim, op);
  if (axis === 0) throw new TesseraError('INVALID_ARGUMENT', `${op}: axis must not be the batch axis 0`);
  const mode = attrString(attrs, 'mode', 'linear');
  if (mode !== 'linear' && mode !== 'circular') {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: mode must be linear or circular, got '${mode}'`);
  }
  const ok = update.ndim === past.ndim && update.shape.every((d, i) => i === axis || d === past.shape[i]);
  if (!ok || update.shape[axis]! > past.shape[axis]!) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: update ${fmtShape(update.shape)} must match past_cache ${fmtShape(past.shape)} except on axis ${axis}, where it may not be longer`,
    );
  }
  const batch = past.shape[0]!;
  let starts = new Array<number>(batch).fill(0);
  if (writeIndices) {
    expectDType(op, 'write_indices', writeIndices, isInt, 'an integer tensor');
    starts = readInts(writeIndices);
    if (starts.length !== batch) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: write_indices has ${starts.length} entries, expected ${batch}`,
      );
    }
  }
  const maxLen = past.shape[axis]!;
  const cs = contiguousStrides(past.shape);
  const us = contiguousStrides(update.shape);
  const n = numel(update.shape);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let p = 0;
    let b = 0;
    for (let d = 0; d < update.ndim; d++) {
      let c = Math.floor(i / us[d]!) % update.shape[d]!;
      if (d === 0) b = c;
      if (d === axis) {
        c += starts[b]!;
        if (mode === 'circular') c = ((c % maxLen) + maxLen) % maxLen;
        else if (c < 0 || c >= maxLen) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `${op}: write index ${starts[b]} for batch ${b} puts the update past the cache length ${maxLen}`,
          );
        }
      }
      p += c * cs[d]!;
    }
    targets[i] = p;
  }
  return targets;
}

function run(inputs: OpInputs, attrs: Attrs): Tensor {
  const past = input(inputs, 0, 'TensorScatter');
  const update = input(inputs, 1, 'TensorScatter');
  expectSameDType('TensorScatter', [past, update]);
  return scatterInto(
    'TensorScatter',
    past,
    tensorScatterTargets(past, update, inputs[2], attrs),
    update,
    'none',
  );
}

registerOp({
  name: 'TensorScatter',
  since: 24,
  minInputs: 2,
  maxInputs: 3,
  defaults: { axis: -2, mode: 'linear' },
  kernels: { cpu: (inputs, attrs) => [run(inputs, attrs)] },
  grad: ({ inputs, attrs }, [dy]) => {
    const [past, update] = [inputs[0]!, inputs[1]!];
    const targets = tensorScatterTargets(past, update, inputs[2], attrs);
    // dPast: dy where the cache was kept, 0 where it was overwritten; dUpdate: dy at the targets.
    const keep = new Int32Array(past.numel());
    for (let i = 0; i < keep.length; i++) keep[i] = i;
    for (const t of targets) keep[t] = -1;
    const gather = (map: Int32Array, shape: readonly number[]) =>
      dispatch1(
        'GatherFlat',
        [dy!, Tensor.fromData(map, [map.length], 'int32')],
        { shape: [...shape] },
        { domain: TESSERA_DOMAIN },
      );
    return [
      past.requiresGrad ? gather(keep, past.shape) : null,
      update.requiresGrad ? gather(targets, update.shape) : null,
      null,
    ];
  },
});
