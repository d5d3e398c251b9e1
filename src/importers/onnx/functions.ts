/**
 * Inlines model-local functions (ModelProto.functions) into the graph that calls them, at the proto
 * level: each call node is replaced by the function's body with its formal inputs/outputs bound to
 * the call's values, its internal values renamed apart, and attribute references (ref_attr_name)
 * resolved from the call's attributes or the function's defaults. Nested calls and calls inside
 * subgraphs are expanded too.
 */
import { TesseraError } from '../../runtime/errors.js';
import type { AttributeProto, FunctionProto, GraphProto, NodeProto, ValueInfoProto } from './proto.js';

const MAX_DEPTH = 32;

function clone<T extends object>(o: T, patch: Partial<T>): T {
  return Object.assign(Object.create(Object.getPrototypeOf(o)), o, patch);
}

const fnKey = (domain: string | undefined, name: string | undefined, overload: string | undefined) =>
  `${domain ?? ''}::${name ?? ''}::${overload ?? ''}`;

export class FunctionInliner {
  private readonly fns = new Map<string, FunctionProto>();
  private counter = 0;

  constructor(functions: readonly FunctionProto[]) {
    for (const f of functions) this.fns.set(fnKey(f.domain, f.name, f.overload), f);
  }

  get size(): number {
    return this.fns.size;
  }

  /** Functions' opset imports, merged under the model's (functions may use domains the model does not). */
  functionOpsets(): { domain: string; version: number }[] {
    const out: { domain: string; version: number }[] = [];
    for (const f of this.fns.values())
      for (const o of f.opset_import) out.push({ domain: o.domain ?? '', version: Number(o.version ?? 0) });
    return out;
  }

  /** The graph with every call to a model-local function replaced by the function body. */
  inlineGraph(g: GraphProto, depth = 0): GraphProto {
    if (this.fns.size === 0) return g;
    const nodes: NodeProto[] = [];
    for (const n of g.node) this.expand(this.inlineSubgraphs(n, depth), nodes, depth);
    return clone(g, { node: nodes });
  }

  private inlineSubgraphs(n: NodeProto, depth: number): NodeProto {
    if (!n.attribute.some((a) => a.g || a.graphs?.length)) return n;
    return clone(n, {
      attribute: n.attribute.map((a) =>
        clone(a, {
          g: a.g ? this.inlineGraph(a.g, depth + 1) : a.g,
          graphs: a.graphs.map((x) => this.inlineGraph(x, depth + 1)),
        }),
      ),
    });
  }

  private expand(n: NodeProto, out: NodeProto[], depth: number): void {
    const f = this.fns.get(fnKey(n.domain, n.op_type, n.overload));
    if (!f) {
      out.push(n);
      return;
    }
    if (depth > MAX_DEPTH) {
      throw new TesseraError(
        'INVALID_MODEL',
        `function ${f.domain}::${f.name}: calls nest deeper than ${MAX_DEPTH} (recursive functions are not allowed)`,
      );
    }
    const call = `${n.name || n.op_type}`;
    const prefix = `${call}__${this.counter++}/`;
    const rename = new Map<string, string>();
    for (const [i, formal] of f.input.entries()) rename.set(formal, n.input[i] ?? '');
    for (const [i, formal] of f.output.entries()) rename.set(formal, n.output[i] || `${prefix}${formal}`);
    for (const b of f.node) for (const o of b.output) if (o && !rename.has(o)) rename.set(o, `${prefix}${o}`);

    const callAttrs = new Map(n.attribute.map((a) => [a.name ?? '', a]));
    const defaults = new Map(f.attribute_proto.map((a) => [a.name ?? '', a]));
    for (const b of f.node) {
      const attribute: AttributeProto[] = [];
      for (const a of b.attribute) {
        if (a.ref_attr_name) {
          const src = callAttrs.get(a.ref_attr_name) ?? defaults.get(a.ref_attr_name);
          if (src) attribute.push(clone(src, { name: a.name, ref_attr_name: '' }));
        } else attribute.push(a.g || a.graphs.length ? renameInAttr(a, rename) : a);
      }
      const body = clone(b, {
        name: `${prefix}${b.name || b.op_type}`,
        input: b.input.map((x) => (x ? (rename.get(x) ?? x) : '')),
        output: b.output.map((x) => (x ? (rename.get(x) ?? x) : '')),
        attribute,
      });
      this.expand(this.inlineSubgraphs(body, depth + 1), out, depth + 1);
    }
  }
}

function renameInAttr(a: AttributeProto, rename: Map<string, string>): AttributeProto {
  return clone(a, {
    g: a.g ? renameGraph(a.g, rename) : a.g,
    graphs: a.graphs.map((g) => renameGraph(g, rename)),
  });
}

/** Renames every value name of a subgraph found in `rename` (its free variables and any shadowing). */
function renameGraph(g: GraphProto, rename: Map<string, string>): GraphProto {
  const r = (x: string) => (x ? (rename.get(x) ?? x) : x);
  const vi = (v: ValueInfoProto) => clone(v, { name: r(v.name ?? '') });
  return clone(g, {
    node: g.node.map((n) =>
      clone(n, {
        input: n.input.map(r),
        output: n.output.map(r),
        attribute: n.attribute.map((a) => (a.g || a.graphs.length ? renameInAttr(a, rename) : a)),
      }),
    ),
    input: g.input.map(vi),
    output: g.output.map(vi),
    value_info: g.value_info.map(vi),
    initializer: g.initializer.map((t) => clone(t, { name: r(t.name ?? '') })),
  });
}
