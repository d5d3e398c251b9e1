/** dropout(x, p, training) as torch.nn.functional.dropout, over the Dropout op (opset 12 form). */

import { dispatch } from '../../ops/registry.js';
import { full } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';

/** Zeroes each element with probability p and scales the rest by 1/(1-p) when training; else returns x. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new TesseraError('INVALID_ARGUMENT', `dropout: probability has to be between 0 and 1, got ${p}`);
  }
  if (!training || p === 0) return x;
  const ratio = full([], p, { dtype: x.dtype, device: x.device });
  const train = full([], true, { device: x.device });
  return dispatch('Dropout', [x, ratio, train])[0]!;
}
