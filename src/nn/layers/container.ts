/** Sequential, ModuleList and ModuleDict: modules that hold other modules under names. */
import { TesseraError } from '../../runtime/errors.js';
import { addIndent, Module } from '../module.js';

function checkModule(who: string, m: unknown, i: number | string): Module {
  if (!(m instanceof Module)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: entry ${i} must be a Module, got ${m === null ? 'null' : typeof m === 'object' ? (m as object).constructor?.name : typeof m}`,
    );
  }
  return m;
}

/** Resolves a list index (negative counts from the end) or throws. */
function listIndex(who: string, i: number, length: number): number {
  if (!Number.isInteger(i) || i < -length || i >= length) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: index ${i} is out of range for length ${length}`);
  }
  return i < 0 ? i + length : i;
}

/** Entries are the Module-valued own properties: with only integer names, in index order. */
function entries(m: Module): [string, Module][] {
  const out: [string, Module][] = [];
  for (const k of Object.keys(m)) {
    const v = (m as any)[k];
    if (v instanceof Module) out.push([k, v]);
  }
  return out;
}

/**
 * Runs its modules in order, each on the previous one's output (torch.nn.Sequential). Built from
 * modules (named '0', '1', ...) or from a record/Map of named modules. Indexable: seq[0], seq.at(-1).
 */
export class Sequential extends Module {
  [index: number]: Module;

  constructor(...modules: Module[] | [Record<string, Module> | Map<string, Module>]) {
    super();
    const first = modules[0] as unknown;
    if (modules.length === 1 && !(first instanceof Module) && first !== null && typeof first === 'object') {
      const named =
        first instanceof Map ? [...first.entries()] : Object.entries(first as Record<string, Module>);
      for (const [k, m] of named) this.registerModule(k, checkModule('Sequential', m, k));
    } else {
      (modules as Module[]).forEach((m, i) => {
        this.registerModule(String(i), checkModule('Sequential', m, i));
      });
    }
  }

  get length(): number {
    return entries(this).length;
  }
  at(i: number): Module {
    const list = entries(this);
    return list[listIndex('Sequential', i, list.length)]![1];
  }
  [Symbol.iterator](): Iterator<Module> {
    return entries(this)
      .map(([, m]) => m)
      [Symbol.iterator]();
  }
  /** Adds a module at the end, named by its position. */
  append(m: Module): this {
    this.registerModule(String(this.length), checkModule('Sequential.append', m, this.length));
    return this;
  }
  /** A new Sequential with modules [start, end) under their original names (torch's seq[a:b]). */
  slice(start?: number, end?: number): Sequential {
    return new Sequential(new Map(entries(this).slice(start, end)));
  }

  override forward(input: any): any {
    let x = input;
    for (const [, m] of entries(this)) x = m.forward(x);
    return x;
  }
}

/** A list of modules, registered as '0', '1', ... (torch.nn.ModuleList); it has no forward. */
export class ModuleList extends Module {
  [index: number]: Module;

  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }

  get length(): number {
    return entries(this).length;
  }
  at(i: number): Module {
    const list = entries(this);
    return list[listIndex('ModuleList', i, list.length)]![1];
  }
  /** Replaces the module at index i. */
  set(i: number, m: Module): this {
    this.registerModule(String(listIndex('ModuleList', i, this.length)), checkModule('ModuleList.set', m, i));
    return this;
  }
  [Symbol.iterator](): Iterator<Module> {
    return entries(this)
      .map(([, m]) => m)
      [Symbol.iterator]();
  }
  append(m: Module): this {
    this.registerModule(String(this.length), checkModule('ModuleList.append', m, this.length));
    return this;
  }
  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }
  /** Inserts before index i (as Python's list.insert: clamped, negative counts from the end). */
  insert(i: number, m: Module): this {
    checkModule('ModuleList.insert', m, i);
    const n = this.length;
    let at = i < 0 ? Math.max(0, n + i) : Math.min(i, n);
    if (!Number.isInteger(at)) at = n;
    for (let k = n; k > at; k--) (this as any)[String(k)] = (this as any)[String(k - 1)];
    (this as any)[String(at)] = m;
    return this;
  }
  /** Removes and returns the module at index i (default: the last). */
  pop(i = -1): Module {
    const n = this.length;
    const at = listIndex('ModuleList.pop', i, n);
    const m = (this as any)[String(at)] as Module;
    for (let k = at; k < n - 1; k++) (this as any)[String(k)] = (this as any)[String(k + 1)];
    delete (this as any)[String(n - 1)];
    return m;
  }

  override forward(..._args: unknown[]): never {
    throw new TesseraError('UNSUPPORTED', 'ModuleList has no forward: iterate over its modules instead');
  }

  /** torch's ModuleList repr: runs of identical modules are printed once, as '(0-2): 3 x Linear(...)'. */
  override toString(): string {
    const reprs = [...this].map((m) => m.toString());
    if (reprs.length === 0) return `${this.getName()}()`;
    const lines: string[] = [];
    let start = 0;
    for (let i = 1; i <= reprs.length; i++) {
      if (i < reprs.length && reprs[i] === reprs[start]) continue;
      const end = i - 1;
      const label = start === end ? `(${start}): ` : `(${start}-${end}): ${end - start + 1} x `;
      lines.push(addIndent(label + reprs[start], 2));
      start = i;
    }
    return `${this.getName()}(\n  ${lines.join('\n  ')}\n)`;
  }
}

/** Modules by name (torch.nn.ModuleDict); names may not shadow Module's own members. */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> | Map<string, Module> = {}) {
    super();
    this.update(modules);
  }
  get length(): number {
    return entries(this).length;
  }
  get(key: string): Module {
    const m = (this as any)[key];
    if (!(m instanceof Module)) throw new TesseraError('NOT_FOUND', `ModuleDict: no module named '${key}'`);
    return m;
  }
  set(key: string, m: Module): this {
    this.registerModule(key, checkModule('ModuleDict.set', m, key));
    return this;
  }
  has(key: string): boolean {
    return (this as any)[key] instanceof Module;
  }
  delete(key: string): boolean {
    if (!this.has(key)) return false;
    delete (this as any)[key];
    return true;
  }
  keys(): string[] {
    return entries(this).map(([k]) => k);
  }
  values(): Module[] {
    return entries(this).map(([, m]) => m);
  }
  items(): [string, Module][] {
    return entries(this);
  }
  update(modules: Record<string, Module> | Map<string, Module>): this {
    const list = modules instanceof Map ? [...modules.entries()] : Object.entries(modules);
    for (const [k, m] of list) this.set(k, m);
    return this;
  }
  override forward(..._args: unknown[]): never {
    throw new TesseraError('UNSUPPORTED', 'ModuleDict has no forward: look up its modules instead');
  }
}
