/**
 * Optimizer base, as torch.optim.Optimizer: parameter groups with per-group hyper-parameters,
 * per-parameter state, zeroGrad, step, stateDict/loadStateDict. Subclasses only write the
 * element-wise update rule (`update`); this class reads the gradients, runs the rule on float64
 * copies and writes the results back into the parameters' CPU storage in place, so every
 * reference to a parameter (a Module's, the optimizer's) sees the new values.
 *
 * Parameters on another device (webgpu) are updated in place there by the fused kernel of the
 * optimizer (`updateOnDevice`, see device-optim.ts), their state kept as device tensors; an
 * optimizer or dtype without one runs `update` on copies, counted and warned once.
 */

import { fallbackCounts } from '../ops/registry.js';
import { enableGrad, noGrad } from '../runtime/autograd.js';
import { zerosLike } from '../runtime/creation.js';
import { encodeNumber, isFloat, needsConversion } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { fmtShape, sameShape } from '../runtime/shape.js';
import { Tensor } from '../runtime/tensor.js';
import { type DeviceOptimKernels, type DeviceState, optimKernels } from './device-optim.js';

/** Hyper-parameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/** One group of parameters sharing hyper-parameters. `initialLr` is set by the first LR scheduler. */
export type ParamGroup<H extends BaseHyper = BaseHyper> = H & { params: Tensor[]; initialLr?: number };

/** What the constructor accepts for a group: its parameters, and any hyper-parameter to override. */
export type ParamGroupInput<H extends BaseHyper = BaseHyper> = Partial<H> & { params: Iterable<Tensor> };

/** Parameters as a flat list, or as groups with their own hyper-parameters. */
export type Params<H extends BaseHyper = BaseHyper> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

/**
 * Per-parameter state: `step` counts and buffers (one float64 per element for CPU parameters; a
 * float32 tensor on the parameter's device for device parameters).
 */
export type ParamState = Record<string, number | Float64Array | Tensor>;

/** A serializable snapshot: state keyed by parameter index (in group order), groups without tensors. */
export interface OptimizerStateDict {
  state: Record<number, Record<string, number | number[]>>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/** A loss-recomputing function for `step(closure)` (as torch's LBFGS-style closures). */
export type Closure = () => Tensor | number;

function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  /** The class name used in messages ('SGD', 'Adam', ...). */
  get name(): string {
    return this.constructor.name;
  }
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** State per parameter, created lazily on its first update. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: Params<H>, defaults: H) {
    this.defaults = defaults;
    if (isTensor(params) || params === null || typeof (params as any)?.[Symbol.iterator] !== 'function') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${this.name}: params must be an iterable of Tensors or of parameter groups, got ${isTensor(params) ? 'a single Tensor' : String(params)}`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) {
      throw new TesseraError('INVALID_ARGUMENT', `${this.name}: got an empty parameter list`);
    }
    const groups: ParamGroupInput<H>[] = list.every(isTensor)
      ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>]
      : (list as ParamGroupInput<H>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /**
   * Checks one group's hyper-parameters; throws a TesseraError naming the optimizer, the
   * hyper-parameter, what it must be and what it was.
   */
  protected abstract validate(h: H): void;

  /**
   * Updates one parameter in place: `p` holds its values (float64 copy), `g` its gradient, `s`
   * its state (empty on the first step). Written exactly as PyTorch's documented update rule.
   */
  protected abstract update(p: Float64Array, g: Float64Array, s: ParamState, group: ParamGroup<H>): void;

  /**
   * Updates a device parameter `p` in place from its gradient `g` (same device, dtype supported by
   * `k`) with the device's fused kernel, state buffers from `deviceState`. Returns false when this
   * optimizer has no device rule (the step then runs `update` on copies).
   */
  protected updateOnDevice(
    _p: Tensor,
    _g: Tensor,
    _s: ParamState,
    _group: ParamGroup<H>,
    _k: DeviceOptimKernels,
  ): boolean {
    return false;
  }

  /** Adds a group; missing hyper-parameters come from the defaults (torch's add_param_group). */
  addParamGroup(input: ParamGroupInput<H>): void {
    const name = this.name;
    if (input === null || typeof input !== 'object' || !('params' in input)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${name}: a parameter group must be an object with 'params', got ${String(input)}`,
      );
    }
    const params = isTensor(input.params) ? [input.params] : [...input.params];
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    params.forEach((p, i) => {
      if (!isTensor(p)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}: parameter ${i} must be a Tensor, got ${typeof p}`,
        );
      }
      if (!p.isLeaf) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}: parameter ${i} must be a leaf tensor, got one produced by ${p.gradFn?.name}`,
        );
      }
      if (!isFloat(p.dtype)) {
        throw new TesseraError(
          'DTYPE_MISMATCH',
          `${name}: parameter ${i} must be a float tensor, got ${p.dtype}`,
        );
      }
      if (seen.has(p)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}: some parameters appear in more than one parameter group`,
        );
      }
      seen.add(p);
    });
    const { params: _ignored, ...overrides } = input as ParamGroupInput<H> & Record<string, unknown>;
    // A copy of the defaults per group, so arrays such as Adam's betas are not shared between groups.
    const group = { ...structuredClone(this.defaults), ...dropUndefined(overrides), params } as ParamGroup<H>;
    this.validate(group);
    this.paramGroups.push(group);
  }

  /** Clears gradients: sets them to null (the default, as torch 2.x) or fills them with zeros. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (setToNone) p.grad = null;
        else if (p.grad.device === 'cpu' && p.grad.isContiguous() && p.grad.isLeaf) {
          const data = p.grad.storage.data as Float64Array;
          const zero = encodeNumber(p.grad.dtype, 0) as number;
          data.fill(zero, p.grad.offset, p.grad.offset + p.grad.numel());
          p.grad.requiresGrad = false;
        } else if (
          p.grad.device !== 'cpu' &&
          p.grad.isContiguous() &&
          p.grad.isLeaf &&
          zeroOnDevice(p.grad)
        ) {
          p.grad.requiresGrad = false;
        } else p.grad = zerosLike(p.grad);
      }
    }
  }

  /**
   * One optimization step over every parameter that has a gradient. With a closure, calls it
   * first (grad mode on) and returns the loss it gave.
   */
  step(closure?: Closure): number | undefined {
    let loss: number | undefined;
    if (closure) {
      const r = enableGrad(closure);
      loss = isTensor(r) ? Number(r.item()) : r;
    }
    noGrad(() => {
      for (const group of this.paramGroups) {
        group.params.forEach((p, i) => {
          if (p.grad === null) return;
          if (p.device !== 'cpu') {
            this.stepOnDevice(p, i, group);
            return;
          }
          const values = this.readParam(p, i);
          const grad = this.readGrad(p, i);
          let s = this.state.get(p);
          if (!s) this.state.set(p, (s = {}));
          hostState(s);
          this.update(values, grad, s, group);
          writeParam(p, values);
        });
      }
    });
    return loss;
  }

  /** One parameter on a device: its fused kernel there, or the CPU rule on copies written back in place. */
  private stepOnDevice(p: Tensor, i: number, group: ParamGroup<H>): void {
    const k = optimKernels(p.device);
    if (!k) {
      throw new TesseraError(
        'UNSUPPORTED',
        `${this.name}: parameter ${i} is on ${p.device}, which has no optimizer kernels (initialize its backend first, or move it with p.to('cpu'))`,
      );
    }
    if (!p.isContiguous()) {
      throw new TesseraError('INVALID_ARGUMENT', `${this.name}: parameter ${i} must be contiguous`);
    }
    const g0 = p.grad!;
    if (!sameShape(g0.shape, p.shape)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${this.name}: the gradient of parameter ${i} has shape ${fmtShape(g0.shape)}, expected ${fmtShape(p.shape)}`,
      );
    }
    const g = g0.device === p.device ? g0 : g0.to(p.device);
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = {}));
    if (k.supports(p.dtype) && k.supports(g.dtype) && this.updateOnDevice(p, g, s, group, k)) return;
    const why = k.supports(p.dtype) ? `${this.name} has no ${p.device} kernel` : `${p.dtype} parameters`;
    const key = `${this.name}.step`;
    fallbackCounts.set(key, (fallbackCounts.get(key) ?? 0) + 1);
    if (!warnedCopies.has(`${key}:${why}`)) {
      warnedCopies.add(`${key}:${why}`);
      process.emitWarning(
        `${key} on ${p.device} with ${why}: the update runs on cpu copies of the parameters`,
        'TesseraFallback',
      );
    }
    const values = Float64Array.from(p.to('cpu').numbers());
    const grad = Float64Array.from(g.to('cpu').numbers());
    hostState(s);
    this.update(values, grad, s, group);
    k.write(p, values);
  }

  private readParam(p: Tensor, i: number): Float64Array {
    if (p.device !== 'cpu' || p.storage.data === undefined) {
      throw new TesseraError(
        'UNSUPPORTED',
        `${this.name}: parameter ${i} is on ${p.device}; optimizers update CPU parameters, move it with p.to('cpu')`,
      );
    }
    if (!p.isContiguous()) {
      throw new TesseraError('INVALID_ARGUMENT', `${this.name}: parameter ${i} must be contiguous`);
    }
    return Float64Array.from(p.numbers());
  }

  private readGrad(p: Tensor, i: number): Float64Array {
    const g = p.grad!;
    if (!sameShape(g.shape, p.shape)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${this.name}: the gradient of parameter ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(p.shape)}`,
      );
    }
    if (g.device !== 'cpu') {
      throw new TesseraError(
        'UNSUPPORTED',
        `${this.name}: the gradient of parameter ${i} is on ${g.device}, expected cpu`,
      );
    }
    return Float64Array.from(g.numbers());
  }

  /** Hyper-parameters and state as plain data (torch's state_dict), parameters by index. */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const { params, ...hyper } = group as ParamGroup<H> & Record<string, unknown>;
      const ids: number[] = [];
      for (const p of params) {
        const s = this.state.get(p);
        if (s) {
          const out: Record<string, number | number[]> = {};
          // Device state is read back here (once per buffer).
          for (const [k, v] of Object.entries(s))
            out[k] = typeof v === 'number' ? v : Array.from(hostValues(v));
          state[index] = out;
        }
        ids.push(index++);
      }
      paramGroups.push({ ...structuredClone(hyper), params: ids });
    }
    return { state, paramGroups };
  }

  /** Restores hyper-parameters and state saved by `stateDict` for the same parameter layout. */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.name;
    if (!sd || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${name}.loadStateDict: expected {state, paramGroups}, got ${JSON.stringify(sd)?.slice(0, 80)}`,
      );
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${name}.loadStateDict: the state has ${sd.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`,
      );
    }
    sd.paramGroups.forEach((g, gi) => {
      const mine = this.paramGroups[gi]!;
      if (g.params.length !== mine.params.length) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}.loadStateDict: group ${gi} has ${g.params.length} parameters in the state, ${mine.params.length} in the optimizer`,
        );
      }
    });
    const byIndex = new Map<number, Tensor>();
    const newState = new Map<Tensor, ParamState>();
    sd.paramGroups.forEach((g, gi) => {
      g.params.forEach((id, j) => {
        byIndex.set(id, this.paramGroups[gi]!.params[j]!);
      });
    });
    for (const [key, entry] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(key));
      if (!p) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}.loadStateDict: state for unknown parameter index ${key}`,
        );
      }
      const s: ParamState = {};
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === 'number') s[k] = v;
        else {
          const arr = Float64Array.from(v as ArrayLike<number>);
          if (arr.length !== p.numel()) {
            throw new TesseraError(
              'SHAPE_MISMATCH',
              `${name}.loadStateDict: state '${k}' of parameter ${key} has ${arr.length} elements, the parameter has ${p.numel()}`,
            );
          }
          s[k] = arr;
        }
      }
      newState.set(p, s);
    }
    sd.paramGroups.forEach((g, gi) => {
      const { params: _ids, ...hyper } = g;
      const mine = this.paramGroups[gi]! as ParamGroup<H> & Record<string, unknown>;
      Object.assign(mine, structuredClone(hyper));
    });
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}

/** Writes float64 values into a contiguous CPU parameter's storage (rounding to its dtype). */
function writeParam(p: Tensor, values: Float64Array): void {
  const data = p.storage.data as Float64Array;
  const off = p.offset;
  if (needsConversion(p.dtype)) {
    for (let i = 0; i < values.length; i++) (data as any)[off + i] = encodeNumber(p.dtype, values[i]!);
  } else data.set(values, off);
}

const warnedCopies = new Set<string>();

/** A state buffer's values on the CPU (device tensors read back). */
function hostValues(v: Float64Array | Tensor): ArrayLike<number> {
  return v instanceof Tensor ? (v.device === 'cpu' ? v : v.to('cpu')).numbers() : v;
}

/** Device tensors in the state (it was on a device before) as float64 buffers, for the CPU rule. */
function hostState(s: ParamState): void {
  for (const [k, v] of Object.entries(s)) if (v instanceof Tensor) s[k] = Float64Array.from(hostValues(v));
}

/** Zeroes a device gradient in place with its backend's kernel; false when there is none for it. */
function zeroOnDevice(g: Tensor): boolean {
  const k = optimKernels(g.device);
  if (!k?.supports(g.dtype)) return false;
  k.fill(g, 0);
  return true;
}

/**
 * The state buffer `key` of device parameter `p`: the existing one, one made from values restored
 * by loadStateDict (or kept while the parameter was elsewhere), or a new one marked fresh (the
 * kernel starts it from the rule's initial value, as `buffer` does on the CPU).
 */
export function deviceState(s: ParamState, key: string, p: Tensor, k: DeviceOptimKernels): DeviceState {
  const v = s[key];
  if (v instanceof Tensor && v.device === p.device) return { t: v, fresh: false };
  if (v instanceof Float64Array || v instanceof Tensor) {
    const t = k.fromValues(p, hostValues(v));
    s[key] = t;
    return { t, fresh: false };
  }
  const t = k.alloc(p);
  s[key] = t;
  return { t, fresh: true };
}

/** `o` without its undefined entries (so `{lr: undefined}` keeps the default). */
export function dropUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** A float64 buffer from the state, created (filled with `init`) on first use. */
export function buffer(s: ParamState, key: string, n: number, init = 0): Float64Array {
  let b = s[key];
  if (!(b instanceof Float64Array)) {
    b = new Float64Array(n);
    if (init !== 0) b.fill(init);
    s[key] = b;
  }
  return b;
}

/** Shared hyper-parameter checks: each throws naming the optimizer, the name, and the bad value. */
export function checkNonNegative(opt: string, what: string, v: number): void {
  if (!(typeof v === 'number' && v >= 0)) {
    throw new TesseraError('INVALID_ARGUMENT', `${opt}: ${what} must be a number >= 0, got ${v}`);
  }
}
export function checkUnitInterval(opt: string, what: string, v: number): void {
  if (!(typeof v === 'number' && v >= 0 && v < 1)) {
    throw new TesseraError('INVALID_ARGUMENT', `${opt}: ${what} must be in [0, 1), got ${v}`);
  }
}
