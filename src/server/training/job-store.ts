/**
 * The training jobs on disk, so they outlive the process: one directory per job under the store
 * (by default `<model repository>/.training`, which the repository ignores as a hidden name):
 *
 *   <id>/job.json                 the job record (spec, state, progress, history, result)
 *   <id>/data.safetensors         training data sent in the request (removed when the job ends)
 *   <id>/checkpoints/             the Trainer's checkpoints (removed when the job ends)
 *
 * Every file is written atomically (temporary file, fsync, rename, fsync of the directory), with
 * async I/O so the server's event loop never waits on the disk; writes of one job's record are
 * serialized, the newest wins.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { JobRecord } from './types.js';

async function fsyncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Platforms that cannot open a directory: the rename alone has to do.
  }
}

/** Writes `bytes` to `path` so that a reader (or a crash) sees the old file or the new one, never half of one. */
export async function writeFileDurably(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${randomUUID()}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDirectory(dir);
}

export const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;

export class JobStore {
  private readonly writes = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  jobDir(id: string): string {
    return join(this.dir, id);
  }
  dataFile(id: string): string {
    return join(this.dir, id, 'data.safetensors');
  }
  checkpointDir(id: string): string {
    return join(this.dir, id, 'checkpoints');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Writes the record (a snapshot taken now); resolves once it is on disk. */
  save(record: JobRecord): Promise<void> {
    const text = `${JSON.stringify(record, null, 1)}\n`;
    const file = join(this.jobDir(record.id), 'job.json');
    const prev = this.writes.get(record.id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => writeFileDurably(file, text));
    this.writes.set(record.id, next);
    void next
      .finally(() => {
        if (this.writes.get(record.id) === next) this.writes.delete(record.id);
      })
      .catch(() => undefined);
    return next;
  }

  /** Waits for every pending write. */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()].map((p) => p.catch(() => undefined)));
  }

  async writeData(id: string, bytes: Uint8Array): Promise<string> {
    const file = this.dataFile(id);
    await writeFileDurably(file, bytes);
    return file;
  }

  /** Every readable job record; `onError` hears about the others. */
  async list(onError: (id: string, e: unknown) => void = () => {}): Promise<JobRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: JobRecord[] = [];
    for (const id of names) {
      if (!JOB_ID.test(id)) continue;
      try {
        const r = JSON.parse(await readFile(join(this.dir, id, 'job.json'), 'utf8')) as JobRecord;
        if (r.id !== id) throw new Error(`job.json names job '${r.id}'`);
        out.push(r);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') onError(id, e);
      }
    }
    return out;
  }

  /** Removes a job's directory (a submission that could not be stored). */
  async remove(id: string): Promise<void> {
    await this.writes.get(id)?.catch(() => undefined);
    await rm(this.jobDir(id), { recursive: true, force: true });
  }

  /** Removes what only a running job needs: its data file (when it owns it) and its checkpoints. */
  async removeWorkFiles(id: string, ownsData: boolean): Promise<void> {
    await rm(this.checkpointDir(id), { recursive: true, force: true });
    if (ownsData) await rm(this.dataFile(id), { force: true });
  }
}
