/**
 * The two graphs a TrainingSession runs over one set of weights: the inference graph (the model
 * as imported) and the training graph, where BatchNormalization uses batch statistics and
 * returns its updated running statistics, and Dropout drops (graph-ops.ts). Both read their
 * initializers from one map, so the parameters the optimizer updates are the ones both see.
 */

import { isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { allNodes, type Graph, isTensorValue, type Model, type Node } from '../runtime/graph.js';
import type { Tensor } from '../runtime/tensor.js';
import { TRAINING_DOMAIN } from './graph-ops.js';

/** A running statistic a training step updates: the initializer and the training graph value holding its new value. */
export interface RunningStat {
  initializer: string;
  output: string;
}

export interface TrainingGraphs {
  evalGraph: Graph;
  trainGraph: Graph;
  opsets: Map<string, number>;
  runningStats: RunningStat[];
}

/**
 * Float Constant nodes (a `value` tensor attribute) become initializers named by their output, so
 * they can be trained (exporters often write BatchNorm scale and bias that way). Returns their names.
 */
export function liftConstants(g: Graph, only?: Set<string>): string[] {
  const lifted: string[] = [];
  g.nodes = g.nodes.filter((n) => {
    if (n.opType !== 'Constant' || n.domain !== '' || n.outputs.length !== 1) return true;
    const v = n.attrs.value;
    const out = n.outputs[0]!;
    if (!isTensorValue(v) || !isFloat(v.dtype) || (only && !only.has(out))) return true;
    if (g.initializers.has(out)) return true;
    g.initializers.set(out, v);
    lifted.push(out);
    return false;
  });
  return lifted;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/** Builds both graphs over `weights` (the initializers, parameters included). */
export function buildTrainingGraphs(model: Model, weights: Map<string, Tensor>): TrainingGraphs {
  const g = model.graph;
  const evalGraph: Graph = { ...g, nodes: [...g.nodes], initializers: weights };
  const taken = new Set<string>();
  for (const { node } of allNodes(g)) for (const o of node.outputs) taken.add(o);
  for (const v of [...g.inputs, ...g.outputs]) taken.add(v.name);
  for (const k of weights.keys()) taken.add(k);
  const runningStats: RunningStat[] = [];
  const nodes: Node[] = g.nodes.map((n) => {
    if (n.domain !== '') return n;
    if (n.opType === 'BatchNormalization') {
      const y = n.outputs[0] ?? '';
      const stat = (i: number, what: string) => {
        const init = n.inputs[i];
        // A node already in training mode may name its running-statistics outputs: keep them.
        const named = n.outputs[i - 2];
        if (!init || !weights.has(init)) return named ?? '';
        const output = named || uniqueName(`${y || n.name}/${what}`, taken);
        runningStats.push({ initializer: init, output });
        return output;
      };
      if (n.inputs.length < 5) {
        throw new TesseraError(
          'INVALID_MODEL',
          `node '${n.name}' (BatchNormalization): expects 5 inputs, got ${n.inputs.length}`,
        );
      }
      return { ...n, domain: TRAINING_DOMAIN, outputs: [y, stat(3, 'running_mean'), stat(4, 'running_var')] };
    }
    if (n.opType === 'Dropout') return { ...n, domain: TRAINING_DOMAIN };
    return n;
  });
  const trainGraph: Graph = { ...g, nodes, initializers: weights };
  const opsets = new Map(model.opsets);
  opsets.set(TRAINING_DOMAIN, 1);
  return { evalGraph, trainGraph, opsets, runningStats };
}
