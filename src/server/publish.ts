/**
 * Writing a new model version into a shared repository so that no reader ever sees half of it:
 * the files go into a hidden temporary directory inside the model directory (same filesystem),
 * are flushed to disk, and the directory is renamed to the next free version number in one step.
 * A replica polling the repository sees no version or the whole one; a process killed midway
 * leaves only a hidden `.tmp-*` directory, which every reader ignores and a later publish removes
 * once it is old. Two replicas publishing at once get different numbers (the rename onto an
 * existing version fails and the next number is tried).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { badRequest } from './errors.js';
import { checkModelName } from './repository.js';
import { isSafeRelativePath } from './security/paths.js';

export const TEMP_PREFIX = '.tmp-';
/** Temporary directories older than this are leftovers of a crash. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The version numbers present in a model directory. */
export async function versionsOnDisk(modelDir: string): Promise<number[]> {
  const names = await readdir(modelDir).catch(() => [] as string[]);
  return names.filter((n) => /^[1-9]\d*$/.test(n)).map(Number);
}

export interface PublishOptions {
  /** Use this version number (fails if it exists) instead of the next free one. */
  version?: number;
  /** Called after the files are written and flushed, before the rename (tests use it to crash there). */
  beforeRename?: (tempDir: string) => Promise<void> | void;
}

/**
 * Publishes `files` (path inside the version directory -> bytes, e.g. {"model.onnx": ...}) as a
 * new version of `model` under `root`; returns its number.
 */
export async function publishVersion(
  root: string,
  model: string,
  files: Record<string, Uint8Array | string>,
  opts: PublishOptions = {},
): Promise<number> {
  checkModelName(model);
  const modelDir = join(root, model);
  await mkdir(modelDir, { recursive: true });
  await removeStaleTemporaries(modelDir);
  const temp = join(modelDir, `${TEMP_PREFIX}${randomUUID()}`);
  try {
    await mkdir(temp);
    for (const [rel, bytes] of Object.entries(files)) {
      if (!isSafeRelativePath(rel))
        throw badRequest(`invalid file path '${rel}' for a version of '${model}'`);
      const target = join(temp, rel);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
      await fsyncPath(target);
    }
    await fsyncPath(temp);
    await opts.beforeRename?.(temp);
    for (let attempt = 0; ; attempt++) {
      const n = opts.version ?? Math.max(0, ...(await versionsOnDisk(modelDir))) + 1;
      try {
        // rename(2) onto an existing, non-empty directory fails: the version is taken.
        if (await stat(join(modelDir, String(n))).catch(() => null))
          throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        await rename(temp, join(modelDir, String(n)));
        await fsyncPath(modelDir);
        return n;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if ((code === 'EEXIST' || code === 'ENOTEMPTY') && opts.version === undefined && attempt < 100)
          continue;
        if (code === 'EEXIST' || code === 'ENOTEMPTY')
          throw badRequest(`version ${n} of model '${model}' already exists`);
        throw e;
      }
    }
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
}

/** Removes `.tmp-*` directories older than `maxAgeMs` (crash leftovers) from a model directory. */
export async function removeStaleTemporaries(modelDir: string, maxAgeMs = STALE_TEMP_MS): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(modelDir).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(TEMP_PREFIX)) continue;
    const p = join(modelDir, n);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > maxAgeMs) {
      await rm(p, { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}
