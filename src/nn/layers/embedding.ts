/** Embedding: a lookup table of vectors; forward is Gather on the weight (torch.nn.Embedding). */
import { dispatch1 } from '../../ops/registry.js';
import { full, int64s, zeros } from '../../runtime/creation.js';
import { DEFAULT_FLOAT, type DType, isFloat, isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { normal_ } from '../init.js';
import { Module } from '../module.js';
import { fillInPlace, Parameter } from '../parameter.js';

export interface EmbeddingOptions {
  /** Entries at this index do not contribute to the gradient; the row is initialized to zeros. */
  paddingIdx?: number | null;
  /** Use this [numEmbeddings, embeddingDim] tensor as the weight instead of initializing one. */
  weight?: Tensor;
  /** Whether the weight is trained (default true). */
  requiresGrad?: boolean;
  dtype?: DType;
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** Normalized to a non-negative index, or null. */
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    for (const [what, n] of [
      ['num_embeddings', numEmbeddings],
      ['embedding_dim', embeddingDim],
    ] as const) {
      if (!Number.isInteger(n) || n < 0) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Embedding: ${what} must be a non-negative integer, got ${n}`,
        );
      }
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Embedding: padding_idx must be within num_embeddings (${numEmbeddings}), got ${pad}`,
        );
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    if (opts.weight) {
      const w = opts.weight;
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `Embedding: weight must have shape [${numEmbeddings}, ${embeddingDim}], got ${fmtShape(w.shape)}`,
        );
      }
      if (!isFloat(w.dtype)) {
        throw new TesseraError('DTYPE_MISMATCH', `Embedding: weight must be a float tensor, got ${w.dtype}`);
      }
      this.weight = new Parameter(w.detach(), opts.requiresGrad ?? true);
    } else {
      this.weight = new Parameter(
        zeros([numEmbeddings, embeddingDim], { dtype: opts.dtype ?? DEFAULT_FLOAT }),
        opts.requiresGrad ?? true,
      );
      this.resetParameters();
    }
  }

  /** An Embedding over `embeddings` (shared, not copied), frozen unless freeze is false. */
  static fromPretrained(
    embeddings: Tensor,
    opts: { freeze?: boolean; paddingIdx?: number | null } = {},
  ): Embedding {
    if (embeddings.ndim !== 2) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Embedding.fromPretrained: embeddings must be 2-dimensional, got shape ${fmtShape(embeddings.shape)}`,
      );
    }
    return new Embedding(embeddings.shape[0]!, embeddings.shape[1]!, {
      weight: embeddings,
      paddingIdx: opts.paddingIdx,
      requiresGrad: !(opts.freeze ?? true),
    });
  }

  /** torch's default: N(0, 1), with the padding row zeroed. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const d = this.embeddingDim;
      const row = this.weight.asStrided([d], [1], this.weight.offset + this.paddingIdx * d);
      fillInPlace(row, () => 0, 'Embedding');
    }
  }

  override forward(indices: Tensor): Tensor {
    if (!isInt(indices.dtype)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `Embedding: indices must be an integer tensor (int64 or int32), got ${indices.dtype}`,
      );
    }
    if (indices.device === 'cpu') {
      const vals = indices.numbers();
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i]!;
        if (v < 0 || v >= this.numEmbeddings) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `Embedding: index ${v} is out of range for ${this.numEmbeddings} embeddings (expected 0 <= index < ${this.numEmbeddings})`,
          );
        }
      }
    }
    const out = dispatch1('Gather', [this.weight, indices], { axis: 0 });
    if (this.paddingIdx !== null && out.requiresGrad) {
      // The padding row gets no gradient: zero the output gradient wherever the index is padding.
      const pad = full([], this.paddingIdx, { dtype: indices.dtype, device: indices.device });
      const isPad = dispatch1('Reshape', [dispatch1('Equal', [indices, pad]), int64s([...indices.shape, 1])]);
      out.registerHook((g) =>
        dispatch1('Where', [isPad, zeros([], { dtype: g.dtype, device: g.device }), g]),
      );
    }
    return out;
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    return s;
  }
}
