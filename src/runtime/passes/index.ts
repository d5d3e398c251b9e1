/**
 * Graph passes and the pipeline InferenceSession runs at load. Each pass rewrites a Model in place,
 * returns how many changes it made, and can be switched off by name; the optimization level picks
 * the default set as ONNX Runtime's levels do (basic: shape inference, folding and cleanup;
 * extended/all: fusions).
 */
import type { Model } from '../graph.js';
import './fused-ops.js';
import { constantFolding } from './constant-folding.js';
import { deadNodeElimination } from './dead-nodes.js';
import { activationFusion } from './fuse-activation.js';
import { addReluFusion } from './fuse-add-relu.js';
import { channelAffineFusion } from './fuse-channel-affine.js';
import { convAddFusion } from './fuse-conv-add.js';
import { convBatchNormFusion } from './fuse-conv-bn.js';
import { matMulAddFusion } from './fuse-matmul-add.js';
import { shapeInference } from './shape-inference.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export type PassName =
  | 'constantFolding'
  | 'deadNodeElimination'
  | 'convBatchNormFusion'
  | 'matMulAddFusion'
  | 'channelAffineFusion'
  | 'addReluFusion'
  | 'convAddFusion'
  | 'activationFusion'
  | 'shapeInference';

/** What the session tells the passes. */
export interface PassContext {
  /** The session's memory limit: passes must not allocate past it (constant folding). */
  memoryLimitBytes?: number;
  /**
   * Fold initializers that are also graph inputs (IR < 4 lists every weight as an input) as
   * constants: the session sets it when it runs an unfolded copy for feeds that override them.
   */
  foldOverridableInputs?: boolean;
  /** The session's device (undefined: CPU): a fusion that only pays on the CPU skips the others. */
  device?: string;
}

export interface GraphPass {
  name: PassName;
  /** The lowest optimization level that runs it. */
  level: 'basic' | 'extended';
  run(model: Model, ctx: PassContext): number;
}

export interface PassResult {
  name: PassName;
  changes: number;
}

/**
 * In pipeline order: fold first so fusions see constant weights; shape inference last, on the
 * final graph (after the sweep optimizeModel adds when a fusion left dead inputs behind).
 */
export const PASSES: readonly GraphPass[] = [
  { name: 'constantFolding', level: 'basic', run: constantFolding },
  { name: 'deadNodeElimination', level: 'basic', run: deadNodeElimination },
  { name: 'convBatchNormFusion', level: 'extended', run: convBatchNormFusion },
  { name: 'matMulAddFusion', level: 'extended', run: matMulAddFusion },
  { name: 'channelAffineFusion', level: 'extended', run: channelAffineFusion },
  { name: 'addReluFusion', level: 'extended', run: addReluFusion },
  { name: 'convAddFusion', level: 'extended', run: convAddFusion },
  { name: 'activationFusion', level: 'extended', run: activationFusion },
  { name: 'shapeInference', level: 'basic', run: shapeInference },
];

const RANK: Record<GraphOptimizationLevel, number> = { disabled: 0, basic: 1, extended: 2, all: 3 };

/** Runs the passes the level enables, minus those `switches` turn off (plus those it turns on). */
export function optimizeModel(
  model: Model,
  level: GraphOptimizationLevel = 'all',
  switches: Partial<Record<PassName, boolean>> = {},
  ctx: PassContext = {},
): PassResult[] {
  const results: PassResult[] = [];
  const enabled = (p: GraphPass) => switches[p.name] ?? RANK[level] >= (p.level === 'basic' ? 1 : 2);
  for (const p of PASSES) {
    if (!enabled(p)) continue;
    if (p.name === 'shapeInference') sweepAfterFusions(model, results);
    results.push({ name: p.name, changes: p.run(model, ctx) });
  }
  return results;
}

/** Fusions leave dead Constant/initializer inputs behind: when dead-node removal is on, sweep once more. */
function sweepAfterFusions(model: Model, results: PassResult[]): void {
  const dead = results.find((r) => r.name === 'deadNodeElimination');
  if (dead && results.some((r) => r !== dead && r.changes > 0)) dead.changes += deadNodeElimination(model);
}

export { checkModelOps, MAX_OPSET, type OpProblem, opId, opProblems, opsetProblems } from './check-ops.js';
export { type MemoryPlan, planMemory } from './memory-plan.js';
export {
  estimateOutputBytes,
  type InferenceResult,
  inferGraph,
  inferNode,
  tryEvaluate,
  typeOfValue,
} from './shape-inference.js';
export {
  activationFusion,
  addReluFusion,
  channelAffineFusion,
  convAddFusion,
  constantFolding,
  convBatchNormFusion,
  deadNodeElimination,
  matMulAddFusion,
};
