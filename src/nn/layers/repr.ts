/** Python-style value formatting for module reprs, so toString() reads exactly like torch's. */

/** Python's repr of a float: 1.0, 0.1, 1e-05, 1e+16. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, e] = x.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** A Python tuple of ints: (3,) or (3, 3). */
export function pyTuple(xs: readonly (number | null)[]): string {
  const items = xs.map((x) => (x === null ? 'None' : String(x)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** An int or a tuple of ints, as the user gave it (torch prints pooling sizes unchanged). */
export function pyIntOrTuple(x: number | readonly (number | null)[] | null): string {
  if (x === null) return 'None';
  return typeof x === 'number' ? String(x) : pyTuple(x);
}

export function pyStr(s: string): string {
  return `'${s}'`;
}
