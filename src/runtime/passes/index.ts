/**
 * Graph passes and the pipeline InferenceSession runs at load. Each pass rewrites a Model in place,
 * returns how many changes it made, and can be switched off by name; the optimization level picks
 * the default set as ONNX Runtime's levels do (basic: folding and cleanup; extended/all: fusions).
 */
import type { Model } from '../graph.js';
import './fused-ops.js';
import { activationFusion } from './fuse-activation.js';
import { convBatchNormFusion } from './fuse-conv-bn.js';
import { matMulAddFusion } from './fuse-matmul-add.js';
import { constantFolding } from './constant-folding.js';
import { deadNodeElimination } from './dead-nodes.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export type PassName =
  | 'constantFolding'
  | 'deadNodeElimination'
  | 'convBatchNormFusion'
  | 'matMulAddFusion'
  | 'activationFusion';

export interface GraphPass {
  name: PassName;
  /** The lowest optimization level that runs it. */
  level: 'basic' | 'extended';
  run(model: Model): number;
}

export interface PassResult {
  name: PassName;
  changes: number;
}

/** In pipeline order: fold first so fusions see constant weights, clean up last. */
export const PASSES: readonly GraphPass[] = [
  { name: 'constantFolding', level: 'basic', run: constantFolding },
  { name: 'deadNodeElimination', level: 'basic', run: deadNodeElimination },
  { name: 'convBatchNormFusion', level: 'extended', run: convBatchNormFusion },
  { name: 'matMulAddFusion', level: 'extended', run: matMulAddFusion },
  { name: 'activationFusion', level: 'extended', run: activationFusion },
];

const RANK: Record<GraphOptimizationLevel, number> = { disabled: 0, basic: 1, extended: 2, all: 3 };

/** Runs the passes the level enables, minus those `switches` turn off (plus those it turns on). */
export function optimizeModel(
  model: Model,
  level: GraphOptimizationLevel = 'all',
  switches: Partial<Record<PassName, boolean>> = {},
): PassResult[] {
  const results: PassResult[] = [];
  for (const p of PASSES) {
    const byLevel = RANK[level] >= (p.level === 'basic' ? 1 : 2);
    if (!(switches[p.name] ?? byLevel)) continue;
    results.push({ name: p.name, changes: p.run(model) });
  }
  // Fusions leave dead Constant/initializer inputs behind: sweep once more.
  if (results.some((r) => r.name !== 'deadNodeElimination' && r.changes > 0) && (switches.deadNodeElimination ?? RANK[level] >= 1)) {
    const r = results.find((x) => x.name === 'deadNodeElimination');
    const n = deadNodeElimination(model);
    if (r) r.changes += n;
  }
  return results;
}

export { constantFolding, deadNodeElimination, convBatchNormFusion, matMulAddFusion, activationFusion };
export { checkModelOps, MAX_OPSET, opId, opProblems, opsetProblems, type OpProblem } from './check-ops.js';
export { type MemoryPlan, planMemory } from './memory-plan.js';
export { estimateOutputBytes, inferGraph, inferNode, type InferenceResult, tryEvaluate, typeOfValue } from './shape-inference.js';
