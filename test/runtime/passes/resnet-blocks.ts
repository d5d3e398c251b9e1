/**
 * A small ResNet-style network for the fusion tests: residual blocks of C channels (Conv-BN-Relu,
 * Conv-BN, Add the shortcut, Relu), then GlobalAveragePool to `y`; with `blockOutput` the last
 * block's output is a graph output too.
 */
import { type Generator, randn, type Tensor } from '../../../src/index.js';
import { attr, model, node, T, vi } from '../../importers/build.js';

export interface ResnetSpec {
  batch: number;
  C: number;
  H: number;
  W: number;
  blocks: number;
  /** Add's inputs as (shortcut, branch) instead of (branch, shortcut). */
  shortcutFirst?: boolean;
  blockOutput?: boolean;
}

export function resnetBlocks(spec: ResnetSpec, gen: Generator): Uint8Array {
  const { batch, C, H, W } = spec;
  const rn = (shape: number[]) => randn(shape, { generator: gen });
  const inits: Record<string, Tensor> = {};
  const nodes: object[] = [];
  let x = 'x';
  const convBn = (input: string, name: string, k: number, relu: boolean) => {
    inits[`${name}_w`] = rn([C, C, k, k]).mul(1 / Math.sqrt(C * k * k));
    for (const p of ['s', 'b', 'm']) inits[`${name}_${p}`] = rn([C]);
    inits[`${name}_v`] = rn([C]).abs().add(0.5);
    const pads = k === 3 ? [attr.ints('pads', [1, 1, 1, 1])] : [];
    nodes.push(node('Conv', [input, `${name}_w`], [`${name}_c`], pads));
    const bnOut = relu ? `${name}_bn` : name;
    nodes.push(
      node('BatchNormalization', [`${name}_c`, `${name}_s`, `${name}_b`, `${name}_m`, `${name}_v`], [bnOut]),
    );
    if (relu) nodes.push(node('Relu', [bnOut], [name]));
    return name;
  };
  for (let blk = 0; blk < spec.blocks; blk++) {
    const h = convBn(convBn(x, `b${blk}a`, 3, true), `b${blk}b`, 1, false);
    nodes.push(node('Add', spec.shortcutFirst ? [x, h] : [h, x], [`b${blk}sum`]));
    nodes.push(node('Relu', [`b${blk}sum`], [`b${blk}out`]));
    x = `b${blk}out`;
  }
  nodes.push(node('GlobalAveragePool', [x], ['y']));
  return model({
    nodes,
    inputs: [vi('x', T.float, [batch, C, H, W])],
    outputs: [vi('y', T.float), ...(spec.blockOutput ? [vi(x, T.float)] : [])],
    initializers: inits,
    opset: 13,
  });
}
