/** Flag parsing shared by the commands: node:util parseArgs with messages that say what to fix. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseFlags(args: string[], options: Options): Parsed {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    // parseArgs' own messages name the flag ("Unknown option '--foo'"); keep them, minus the code suffix.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function str(p: Parsed, flag: string): string | undefined {
  const v = p.values[flag];
  return typeof v === 'string' ? v : undefined;
}

export function list(p: Parsed, flag: string): string[] {
  const v = p.values[flag];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function bool(p: Parsed, flag: string): boolean {
  return p.values[flag] === true;
}

export function intFlag(
  p: Parsed,
  flag: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = str(p, flag);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || v < min || v > max) {
    throw new UsageError(
      `--${flag} expects an integer${max < Number.MAX_SAFE_INTEGER ? ` in [${min}, ${max}]` : ` >= ${min}`}, got '${raw}'`,
    );
  }
  return v;
}

export function numFlag(
  p: Parsed,
  flag: string,
  fallback: number | undefined,
  min = Number.NEGATIVE_INFINITY,
  exclusiveMin = false,
): number | undefined {
  const raw = str(p, flag);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || (exclusiveMin && v === min)) {
    throw new UsageError(`--${flag} expects a number ${exclusiveMin ? '>' : '>='} ${min}, got '${raw}'`);
  }
  return v;
}

/** Exactly `n` positional arguments, named for the message. */
export function positionals(p: Parsed, names: string[]): string[] {
  if (p.positionals.length < names.length) {
    throw new UsageError(
      `missing ${names
        .slice(p.positionals.length)
        .map((n) => `<${n}>`)
        .join(' ')}`,
    );
  }
  if (p.positionals.length > names.length) {
    throw new UsageError(
      `unexpected argument '${p.positionals[names.length]}' (expected ${names.map((n) => `<${n}>`).join(' ')})`,
    );
  }
  return p.positionals;
}
