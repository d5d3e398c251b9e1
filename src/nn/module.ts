/**
 * Module: the base of every layer and model (torch.nn.Module, camelCase).
 *
 * Registration scheme, one rule per kind of state:
 * - a Parameter assigned to a property of the module is a parameter (`this.weight = new Parameter(t)`);
 * - a Module assigned to a property is a submodule (`this.fc1 = new Linear(2, 3)`);
 * - buffers (state that is saved but not trained, such as BatchNorm's running mean) are plain
 *   tensors, so they must be declared with `registerBuffer(name, t)`; later assignments to the
 *   property replace the buffer's value.
 * Registration is read from the object's own properties each time it is needed, so assigning,
 * reassigning and `delete` behave like torch's `__setattr__`/`__delattr__`. Order is property
 * order: the order properties were first defined (integer-like names such as Sequential's '0',
 * '1' come first, ascending). `registerParameter`, `registerModule`/`addModule` do the same as
 * the assignment, for names computed at run time.
 *
 * `forward(...args)` is the call: `model.forward(x)`.
 */
import { noGrad } from '../runtime/autograd.js';
import { zerosLike } from '../runtime/creation.js';
import { type DType, isDType, isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { fmtShape, sameShape } from '../runtime/shape.js';
import { DEVICES, type Device, Tensor } from '../runtime/tensor.js';
import { copyInPlace, fillInPlace, Parameter } from './parameter.js';

/** A state dict: name -> tensor, as a Map (ordered, as torch's OrderedDict) or a plain record. */
export type StateDict = Map<string, Tensor> | Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${kind}: name must be a non-empty string without '.', got '${String(name)}'`,
    );
  }
}

/** torch's _addindent: indents every line but the first. */
export function addIndent(s: string, spaces: number): string {
  const lines = s.split('\n');
  if (lines.length === 1) return s;
  const pad = ' '.repeat(spaces);
  return [lines[0], ...lines.slice(1).map((l) => pad + l)].join('\n');
}

export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;
  readonly #buffers: string[] = [];
  readonly #nonPersistent = new Set<string>();

  /** The computation of this module. */
  abstract forward(...args: any[]): any;

  /** The class name, as printed by toString(). */
  getName(): string {
    return this.constructor.name;
  }

  // ---- registration ------------------------------------------------------------------------

  /** Registers (or with null, unregisters) a parameter under `name`; same as assigning it. */
  registerParameter(name: string, param: Parameter | null): Parameter | null {
    checkName('registerParameter', name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `registerParameter: '${name}' must be a Parameter or null, got ${describe(param)}; wrap the tensor in new Parameter(t)`,
      );
    }
    if (this.#buffers.includes(name)) {
      throw new TesseraError('INVALID_ARGUMENT', `registerParameter: '${name}' is already a buffer`);
    }
    this.checkFree('registerParameter', name, (v) => v instanceof Parameter);
    (this as any)[name] = param;
    return param;
  }

  /** Registers a submodule under `name`; same as assigning it. */
  registerModule<M extends Module | null>(name: string, module: M): M {
    checkName('registerModule', name);
    if (module !== null && !(module instanceof Module)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `registerModule: '${name}' must be a Module or null, got ${describe(module)}`,
      );
    }
    if (this.#buffers.includes(name)) {
      throw new TesseraError('INVALID_ARGUMENT', `registerModule: '${name}' is already a buffer`);
    }
    this.checkFree('registerModule', name, (v) => v instanceof Module);
    (this as any)[name] = module;
    return module;
  }

  /** torch's add_module. */
  addModule<M extends Module | null>(name: string, module: M): M {
    return this.registerModule(name, module);
  }

  /**
   * Registers a buffer: a tensor saved in stateDict (unless `persistent` is false) and moved by
   * to(), but not returned by parameters(). Later assignments to the property replace its value.
   */
  registerBuffer(name: string, t: Tensor | null, persistent = true): Tensor | null {
    checkName('registerBuffer', name);
    if (t !== null && !(t instanceof Tensor)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `registerBuffer: '${name}' must be a Tensor or null, got ${describe(t)}`,
      );
    }
    if (t instanceof Parameter || (this as any)[name] instanceof Parameter) {
      throw new TesseraError('INVALID_ARGUMENT', `registerBuffer: '${name}' is a parameter, not a buffer`);
    }
    if ((this as any)[name] instanceof Module) {
      throw new TesseraError('INVALID_ARGUMENT', `registerBuffer: '${name}' is already a submodule`);
    }
    if (!this.#buffers.includes(name)) this.checkFree('registerBuffer', name, (v) => v instanceof Tensor);
    if (!this.#buffers.includes(name)) this.#buffers.push(name);
    if (persistent) this.#nonPersistent.delete(name);
    else this.#nonPersistent.add(name);
    (this as any)[name] = t;
    return t;
  }

  private checkFree(kind: string, name: string, ok: (v: unknown) => boolean): void {
    if (!(name in this)) return;
    const v = (this as any)[name];
    if (v === undefined || v === null || ok(v)) return;
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${kind}: attribute '${name}' already exists (${describe(v)})`,
    );
  }

  // ---- traversal ---------------------------------------------------------------------------

  /** This module's own parameters, in property order. */
  private ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const k of Object.keys(this)) {
      const v = (this as any)[k];
      if (v instanceof Parameter) out.push([k, v]);
    }
    return out;
  }

  /** This module's own buffers (null ones skipped), in registration order. */
  private ownBuffers(persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const k of this.#buffers) {
      const v = (this as any)[k];
      if (v instanceof Tensor && !(persistentOnly && this.#nonPersistent.has(k))) out.push([k, v]);
    }
    return out;
  }

  /** The direct submodules with their names. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    for (const k of Object.keys(this)) {
      const v = (this as any)[k];
      if (v instanceof Module && !seen.has(v)) {
        seen.add(v);
        out.push([k, v]);
      }
    }
    return out;
  }
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all below it, depth first, each once ('' names this module). */
  namedModules(prefix = '', memo: Set<Module> = new Set()): [string, Module][] {
    if (memo.has(this)) return [];
    memo.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const k of Object.keys(this)) {
      const v = (this as any)[k];
      if (v instanceof Module) out.push(...v.namedModules(prefix ? `${prefix}.${k}` : k, memo));
    }
    return out;
  }
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with dotted names ('0.weight', 'fc1.bias'); shared parameters are listed once. */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }
  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, b] of m.ownBuffers()) {
        if (seen.has(b)) continue;
        seen.add(b);
        out.push([mp ? `${mp}.${k}` : k, b]);
      }
    }
    return out;
  }
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, b]) => b);
  }

  /** The submodule at a dotted path ('' is this module). */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      const next = (m as any)[part];
      if (!(next instanceof Module)) {
        throw new TesseraError(
          'NOT_FOUND',
          `getSubmodule: ${m.getName()} has no submodule '${part}' (in '${target}')`,
        );
      }
      m = next;
    }
    return m;
  }
  getParameter(target: string): Parameter {
    const i = target.lastIndexOf('.');
    const m = this.getSubmodule(i < 0 ? '' : target.slice(0, i));
    const p = (m as any)[target.slice(i + 1)];
    if (!(p instanceof Parameter))
      throw new TesseraError('NOT_FOUND', `getParameter: no parameter '${target}'`);
    return p;
  }
  getBuffer(target: string): Tensor {
    const i = target.lastIndexOf('.');
    const m = this.getSubmodule(i < 0 ? '' : target.slice(0, i));
    const name = target.slice(i + 1);
    const b = m.ownBuffers().find(([k]) => k === name);
    if (!b) throw new TesseraError('NOT_FOUND', `getBuffer: no buffer '${target}'`);
    return b[1];
  }

  // ---- state -------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted name, each module's parameters then buffers, then
   * its children (torch's order). Tensors are detached views sharing storage, unless `keepVars`.
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    // Like torch, a submodule reachable under two names is saved under both.
    const visit = (m: Module, prefix: string, ancestors: Module[]) => {
      if (ancestors.includes(m)) return;
      for (const [k, t] of [...m.ownParameters(), ...m.ownBuffers(true)]) {
        out.set(prefix + k, opts.keepVars ? t : t.detach());
      }
      for (const k of Object.keys(m)) {
        const c = (m as any)[k];
        if (c instanceof Module) visit(c, `${prefix}${k}.`, [...ancestors, m]);
      }
    };
    visit(this, opts.prefix ?? '', []);
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers in place (so optimizers holding
   * them see the new values). With `strict`, missing and unexpected keys are errors.
   */
  loadStateDict(dict: StateDict, strict = true): LoadResult {
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict({ keepVars: true });
    const missingKeys = [...own.keys()].filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !own.has(k));
    const errors: string[] = [];
    for (const [k, t] of own) {
      const v = entries.get(k);
      if (v === undefined) continue;
      if (!(v instanceof Tensor)) {
        errors.push(`While copying the parameter named "${k}", expected a Tensor, got ${describe(v)}.`);
      } else if (!sameShape(v.shape, t.shape)) {
        errors.push(
          `size mismatch for ${k}: copying a param with shape ${fmtShape(v.shape)} from checkpoint, the shape in current model is ${fmtShape(t.shape)}.`,
        );
      }
    }
    if (strict) {
      if (unexpectedKeys.length)
        errors.unshift(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
      if (missingKeys.length)
        errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    if (errors.length) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Error(s) in loading state_dict for ${this.getName()}:\n\t${errors.join('\n\t')}`,
      );
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const v = entries.get(k);
        if (v) copyInPlace(t, v, `loadStateDict '${k}'`);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- modes and utilities -----------------------------------------------------------------

  /** Sets training mode on this module and all below it. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `train: mode is expected to be a boolean, got ${describe(mode)}`,
      );
    }
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Sets requiresGrad on every parameter (torch's requires_grad_). */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  /** Calls `fn` on every submodule (children first) and then on this one. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Clears parameter gradients: to null (default, as torch 2.x), or fills them with zeros. */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) p.grad = null;
      else if (g.device === 'cpu' && g.isLeaf) {
        g.requiresGrad = false;
        fillInPlace(g, () => 0, 'zeroGrad');
      } else p.grad = zerosLike(g);
    }
  }

  /**
   * Casts floating-point parameters and buffers to a float dtype and/or moves every parameter and
   * buffer to a device. Parameters are replaced by new Parameter objects (gradients converted
   * along), so build optimizers after calling to(), as torch advises.
   */
  to(target: DType | Device | { dtype?: DType; device?: Device }): this {
    let dtype: DType | undefined;
    let device: Device | undefined;
    if (typeof target === 'string') {
      if ((DEVICES as readonly string[]).includes(target)) device = target as Device;
      else if (isDType(target)) dtype = target;
      else
        throw new TesseraError('INVALID_ARGUMENT', `Module.to: '${target}' is neither a dtype nor a device`);
    } else {
      dtype = target.dtype;
      device = target.device;
    }
    if (dtype !== undefined && !isFloat(dtype)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `Module.to: only floating-point dtypes are accepted, got ${dtype}`,
      );
    }
    const convert = (t: Tensor): Tensor => {
      let r = t;
      if (dtype && isFloat(t.dtype) && t.dtype !== dtype) r = r.to(dtype);
      if (device && r.device !== device) r = r.to(device);
      return r;
    };
    noGrad(() => {
      for (const m of this.modules()) {
        for (const [k, p] of m.ownParameters()) {
          const c = convert(p);
          if (c === p) continue;
          const np = new Parameter(c.detach(), p.requiresGrad);
          if (p.grad) np.grad = convert(p.grad);
          (m as any)[k] = np;
        }
        for (const [k, b] of m.ownBuffers()) (m as any)[k] = convert(b);
      }
    });
    return this;
  }
  float(): this {
    return this.to('float32');
  }
  double(): this {
    return this.to('float64');
  }
  half(): this {
    return this.to('float16');
  }

  // ---- printing ----------------------------------------------------------------------------

  /** The module's own settings for toString(), as torch's extra_repr. */
  extraRepr(): string {
    return '';
  }

  /** torch's module repr: `Linear(in_features=2, out_features=3, bias=True)`, children indented. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = this.namedChildren().map(([k, c]) => `(${k}): ${addIndent(c.toString(), 2)}`);
    const lines = [...extraLines, ...childLines];
    let s = `${this.getName()}(`;
    if (lines.length) {
      if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
      else s += `\n  ${lines.join('\n  ')}\n`;
    }
    return `${s})`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return `a Tensor of shape ${fmtShape(v.shape)}`;
  if (typeof v === 'object') return `an object of type ${(v as object).constructor?.name ?? 'Object'}`;
  return `${typeof v} ${String(v)}`;
}
