/** toString() in PyTorch's style: tensor([[1., 2.]], requires_grad=True), grad_fn=<AddBackward0>. */
import { isFloat } from './dtype.js';
import { setTensorFormatter, type Tensor } from './tensor.js';

const SUMMARIZE_OVER = 1000;
const EDGE = 3;

function formatElements(t: Tensor): (v: number | boolean | string) => string {
  if (t.dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (t.dtype === 'string') return (v) => `'${v}'`;
  if (!isFloat(t.dtype)) return (v) => String(v);
  const vals = Array.from(t.numbers()).filter(Number.isFinite);
  const allInt = vals.every((v) => Number.isInteger(v));
  const maxAbs = Math.max(0, ...vals.map(Math.abs));
  const minAbs = Math.min(...vals.filter((v) => v !== 0).map(Math.abs));
  const sci =
    vals.length > 0 &&
    (maxAbs >= 1e8 ||
      (minAbs < 1e-4 && minAbs !== Number.POSITIVE_INFINITY) ||
      (maxAbs / minAbs > 1e3 && !allInt));
  return (v) => {
    const n = Number(v);
    if (Number.isNaN(n)) return 'nan';
    if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
    if (sci) return n.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
    if (allInt) return `${n.toFixed(0)}.`;
    return n.toFixed(4);
  };
}

export function formatTensor(t: Tensor): string {
  const extras: string[] = [];
  let body: string;
  if (t.device !== 'cpu' || t.storage.data === undefined) {
    body = `<${t.numel()} elements on ${t.device}>`;
  } else {
    const fmt = formatElements(t);
    const flat = t.toArray();
    const summarize = t.numel() > SUMMARIZE_OVER;
    const strs: string[] = [];
    const walk = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(walk);
      strs.push(fmt(x as number));
      return strs.length - 1;
    };
    const idx = walk(flat);
    const width = Math.max(0, ...strs.map((s) => s.length));
    const pad = (i: number) => strs[i]!.padStart(width);
    const render = (x: unknown, depth: number): string => {
      if (!Array.isArray(x)) return pad(x as number);
      let items = x.map((e) => render(e, depth + 1));
      if (summarize && items.length > 2 * EDGE)
        items = [...items.slice(0, EDGE), '...', ...items.slice(-EDGE)];
      const sep = depth === t.ndim - 1 ? ', ' : `,${'\n'.repeat(t.ndim - 1 - depth)}${' '.repeat(8 + depth)}`;
      return `[${items.join(sep)}]`;
    };
    body = render(idx, 0);
  }
  if (t.numel() === 0 && t.ndim > 0) extras.push(`size=(${t.shape.join(', ')}${t.ndim === 1 ? ',' : ''})`);
  const defaultDtype = t.dtype === 'float32' || t.dtype === 'int64' || t.dtype === 'bool';
  if (!defaultDtype) extras.push(`dtype=${t.dtype}`);
  if (t.device !== 'cpu') extras.push(`device='${t.device}'`);
  if (t.gradFn) extras.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) extras.push('requires_grad=True');
  return `tensor(${body}${extras.map((e) => `, ${e}`).join('')})`;
}

setTensorFormatter(formatTensor);
