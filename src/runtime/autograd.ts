/**
 * Reverse-mode autograd. `dispatch` records a GradNode for every op that has a gradient when grad
 * mode is on and an input requires grad; `backward` walks those nodes in reverse topological order
 * and accumulates into the leaves' `.grad`. Gradients are written with other ops, so they run on
 * every backend and can themselves be differentiated (`createGraph`).
 */
import { TesseraError } from './errors.js';
import { fmtShape, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}
export function setGradEnabled(on: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = on;
  return prev;
}

function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = setGradEnabled(on);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    gradEnabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    // Async bodies keep the mode until they settle (single-threaded, so this matches torch's context manager).
    return result.finally(() => {
      gradEnabled = prev;
    }) as T;
  }
  gradEnabled = prev;
  return result;
}

/** Runs `fn` without recording gradients (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}
/** Runs `fn` with gradient recording on (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export type BackwardFn = (dys: (Tensor | null)[]) => (Tensor | null | undefined)[];

export class GradNode {
  /** Printed like torch: AddBackward0. */
  readonly name: string;
  inputs: (Tensor | undefined)[];
  private readonly outputs: WeakRef<Tensor>[];
  private fn: BackwardFn | null;

  constructor(opName: string, inputs: (Tensor | undefined)[], outputs: Tensor[], fn: BackwardFn) {
    this.name = `${opName}Backward0`;
    this.inputs = inputs;
    this.outputs = outputs.map((t) => new WeakRef(t));
    this.fn = fn;
  }

  get numOutputs(): number {
    return this.outputs.length;
  }
  output(i: number): Tensor | undefined {
    return this.outputs[i]?.deref();
  }
  /** The nodes this one feeds gradients to (torch's next_functions). */
  get nextFunctions(): (GradNode | null)[] {
    return this.inputs.map((t) => t?.gradFn ?? null);
  }
  apply(dys: (Tensor | null)[]): (Tensor | null | undefined)[] {
    if (!this.fn) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${this.name}: trying to backward through the graph a second time; pass {retainGraph: true} to the first backward()`,
      );
    }
    return this.fn(dys);
  }
  release(): void {
    this.fn = null;
  }
  toString(): string {
    return `<${this.name}>`;
  }
}

export interface BackwardOptions {
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients. */
  createGraph?: boolean;
}

// Late-bound helpers from the op layer (add, ones, copy) so this file has no import cycle with it.
export interface AutogradOps {
  add(a: Tensor, b: Tensor): Tensor;
  onesLike(t: Tensor): Tensor;
  clone(t: Tensor): Tensor;
}
let ops: AutogradOps | null = null;
export function setAutogradOps(o: AutogradOps): void {
  ops = o;
}
function need(): AutogradOps {
  if (!ops) throw new TesseraError('INTERNAL', 'autograd ops not registered: import tessera from src/index');
  return ops;
}

function runHooks(t: Tensor, g: Tensor): Tensor {
  for (const h of t.hooks) {
    const r = h(g);
    if (r instanceof Tensor) g = r;
  }
  return g;
}

function accumulateLeaf(t: Tensor, g: Tensor, createGraph: boolean): void {
  g = runHooks(t, g);
  const o = need();
  if (t.grad === null) t.grad = createGraph ? g : o.clone(g);
  else t.grad = createGraph ? o.add(t.grad, g) : noGrad(() => o.add(t.grad!, g));
}

function checkGrad(node: GradNode, input: Tensor, g: Tensor): void {
  if (!sameShape(input.shape, g.shape)) {
    throw new TesseraError(
      'INTERNAL',
      `${node.name} returned a gradient of shape ${fmtShape(g.shape)} for an input of shape ${fmtShape(input.shape)}`,
    );
  }
}

/** Computes gradients of `root` (scalar unless `grad` is given) and accumulates them into leaves. */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      'element 0 of tensors does not require grad and does not have a grad_fn',
    );
  }
  const o = need();
  if (grad === undefined) {
    if (root.numel() !== 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `grad can be implicitly created only for scalar outputs; got shape ${fmtShape(root.shape)}`,
      );
    }
    grad = o.onesLike(root);
  } else if (!sameShape(grad.shape, root.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `backward: gradient shape ${fmtShape(grad.shape)} does not match tensor shape ${fmtShape(root.shape)}`,
    );
  }
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const prev = setGradEnabled(createGraph);
  try {
    if (!root.gradFn) {
      accumulateLeaf(root, grad, createGraph);
      return;
    }
    // Count, for every node, how many edges from reachable nodes lead to it.
    const deps = new Map<GradNode, number>();
    const stack: GradNode[] = [root.gradFn];
    deps.set(root.gradFn, 0);
    const seen = new Set<GradNode>([root.gradFn]);
    while (stack.length) {
      const n = stack.pop()!;
      for (const t of n.inputs) {
        const next = t?.gradFn;
        if (!next || !t.requiresGrad) continue;
        deps.set(next, (deps.get(next) ?? 0) + 1);
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    // Leaf gradients are summed over the whole pass first, so a leaf's hooks see its total
    // gradient once (as in torch), however many ops used the leaf.
    const leafGrads = new Map<Tensor, Tensor>();
    const buffers = new Map<GradNode, (Tensor | null)[]>();
    const put = (n: GradNode, i: number, g: Tensor) => {
      let b = buffers.get(n);
      if (!b) buffers.set(n, (b = new Array<Tensor | null>(n.numOutputs).fill(null)));
      b[i] = b[i] === null ? g : o.add(b[i]!, g);
    };
    put(root.gradFn, root.outputIndex, grad);
    const ready: GradNode[] = [root.gradFn];
    while (ready.length) {
      const node = ready.pop()!;
      const dys = buffers.get(node) ?? new Array<Tensor | null>(node.numOutputs).fill(null);
      buffers.delete(node);
      for (let i = 0; i < dys.length; i++) {
        const out = node.output(i);
        if (!out || dys[i] === null) continue;
        dys[i] = runHooks(out, dys[i]!);
        if (out.retainsGrad) out.grad = createGraph ? dys[i] : o.clone(dys[i]!);
      }
      const grads = dys.some((d) => d !== null) ? node.apply(dys) : [];
      if (!retainGraph) node.release();
      node.inputs.forEach((t, j) => {
        const g = grads[j];
        if (t?.requiresGrad && g) {
          checkGrad(node, t, g);
          if (t.gradFn) put(t.gradFn, t.outputIndex, g);
          else {
            const prevG = leafGrads.get(t);
            leafGrads.set(t, prevG ? o.add(prevG, g) : g);
          }
        }
        const next = t?.requiresGrad ? t.gradFn : null;
        if (next) {
          const left = deps.get(next)! - 1;
          deps.set(next, left);
          if (left === 0) ready.push(next);
        }
      });
    }
    for (const [t, g] of leafGrads) accumulateLeaf(t, g, createGraph);
  } finally {
    setGradEnabled(prev);
  }
}
