/** Dropout: zeroes elements with probability p in training mode, scaling the rest by 1/(1-p). */
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import * as F from '../functional/index.js';
import { Module } from '../module.js';
import { pyFloat } from './repr.js';

export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Dropout: dropout probability has to be between 0 and 1, but got ${p}`,
      );
    }
    this.p = p;
  }

  /** The identity in eval mode. */
  override forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
