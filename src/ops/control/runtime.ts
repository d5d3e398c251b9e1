/**
 * What control-flow kernels (If, Loop, Scan, SequenceMap) get from the graph executor through
 * `ctx.runtime`: a way to run a subgraph attribute in the current scope, so bodies see the
 * enclosing graphs' values, and a deadline check for long loops. Eager calls have no runtime.
 */
import { TesseraError } from '../../runtime/errors.js';
import type { Value } from '../../runtime/graph.js';
import type { GraphAttr, KernelContext } from '../registry.js';

export interface SubgraphRuntime {
  /**
   * Runs `body` with its graph inputs bound, in order, to `inputs` (undefined for an absent
   * optional input) and returns its graph outputs in order.
   */
  runSubgraph(body: GraphAttr, inputs: readonly (Value | undefined)[], what: string): Value[];
  /** Throws when the run's time limit has passed (loops call it every iteration). */
  checkDeadline(what: string): void;
  /** Throws when `bytes` more (values a loop is accumulating) would cross the run's memory limit. */
  checkFits(bytes: number, what: string): void;
}

export function subgraphRuntime(ctx: KernelContext): SubgraphRuntime {
  const rt = ctx.runtime as Partial<SubgraphRuntime> | undefined;
  if (!rt || typeof rt.runSubgraph !== 'function') {
    throw new TesseraError(
      'UNSUPPORTED',
      `${ctx.op}: runs a subgraph, so it is only available inside a graph (InferenceSession)`,
    );
  }
  return rt as SubgraphRuntime;
}

/** The graph attribute `name`, or a TesseraError naming the op. */
export function graphAttr(attrs: Record<string, unknown>, name: string, op: string): GraphAttr {
  const g = attrs[name] as GraphAttr | undefined;
  if (!g || typeof g !== 'object' || g.kind !== 'graph') {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute '${name}' must be a graph`);
  }
  return g;
}
