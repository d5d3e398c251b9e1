/**
 * Paths that come from requests or configs must stay inside the model repository: names are
 * plain (no separators, no `..`, not absolute), and what is on disk is checked after resolving
 * symlinks, so a link inside the repository cannot expose a file outside it.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, normalize, sep } from 'node:path';
import { badRequest } from '../errors.js';

/** A relative path with no `..` segment and no absolute or drive prefix ("1/model.onnx", "labels.txt"). */
export function isSafeRelativePath(rel: string): boolean {
  if (!rel || rel.includes('\0') || isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.startsWith('\\'))
    return false;
  return !rel.split(/[\\/]+/).some((part) => part === '..');
}

/** Whether `child` (already normalized) is `parent` or below it. */
export function isInside(parent: string, child: string): boolean {
  const p = normalize(parent);
  const c = normalize(child);
  return c === p || c.startsWith(p.endsWith(sep) ? p : p + sep);
}

/**
 * Throws a 400 when `path`, with symlinks resolved, lies outside `root` (also resolved). A path
 * that does not exist passes: whoever opens it reports that.
 */
export async function assertInsideRoot(root: string, path: string, what: string): Promise<void> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return;
  }
  const realRoot = await realpath(root).catch(() => root);
  if (!isInside(realRoot, real)) {
    throw badRequest(`${what} resolves outside the model repository (a symlink escape); refused`);
  }
}
