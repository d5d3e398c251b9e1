/**
 * Memory planning: walks a graph's execution plan with inferred value sizes, adding each node's
 * outputs and dropping values after their last use (the executor frees them at the same points),
 * to find the planned peak of live intermediate bytes and the node where it happens.
 */
import { TesseraError } from '../errors.js';
import { fmtBytes, type GraphPlan } from '../executor.js';
import { metaBytes, type ValueType } from '../graph.js';

export interface MemoryPlan {
  /** Largest sum of live intermediate bytes over the run (weights and feeds not included). */
  peakBytes: number;
  /** The node after which the peak is reached. */
  peakNode?: string;
  /** False when some value's size is unknown (symbolic or data-dependent dims): the peak is a lower bound. */
  complete: boolean;
}

function typeBytes(t: ValueType | undefined): number | undefined {
  if (!t) return undefined;
  if (t.kind === 'tensor') return metaBytes(t);
  return undefined;
}

/**
 * Simulates the plan. With `limitBytes`, throws RESOURCE_EXHAUSTED at the first node whose outputs
 * would take live memory (plus `baseBytes`) past it.
 */
export function planMemory(
  plan: GraphPlan,
  types: ReadonlyMap<string, ValueType>,
  limitBytes = Number.POSITIVE_INFINITY,
  baseBytes = 0,
): MemoryPlan {
  const live = new Map<string, number>();
  let cur = 0;
  let peak = 0;
  let peakNode: string | undefined;
  let complete = true;
  plan.order.forEach((node, pos) => {
    for (const o of node.outputs) {
      if (!o) continue;
      const b = typeBytes(types.get(o));
      if (b === undefined) {
        complete = false;
        continue;
      }
      live.set(o, b);
      cur += b;
    }
    if (cur > peak) {
      peak = cur;
      peakNode = node.name;
    }
    if (baseBytes + cur > limitBytes) {
      throw new TesseraError(
        'RESOURCE_EXHAUSTED',
        `node '${node.name}' (${node.opType}): its outputs bring planned memory to ${fmtBytes(baseBytes + cur)}, more than memoryLimitBytes (${fmtBytes(limitBytes)})`,
      );
    }
    for (const name of plan.freeAfter[pos]!) {
      const b = live.get(name);
      if (b !== undefined) {
        cur -= b;
        live.delete(name);
      }
    }
  });
  return { peakBytes: peak, peakNode, complete };
}
