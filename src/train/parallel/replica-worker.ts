/**
 * Worker-thread entry of a data-parallel replica (started by data-parallel.ts): builds the replica
 * from workerData, reports ready, then runs each step message and replies with its loss and
 * metric sums; its gradients are in shared memory. Errors are reported with their code, so the
 * trainer fails the step with the replica's message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../../runtime/index.js';
import { TesseraError } from '../../runtime/errors.js';
import type { FromReplica, ToReplica } from './data-parallel.js';
import { Replica, type ReplicaInit } from './replica.js';

const port = parentPort!;

function errorMessage(e: unknown, id?: number): FromReplica {
  if (e instanceof TesseraError) return { type: 'error', id, message: e.message, code: e.code };
  return { type: 'error', id, message: (e as Error)?.message ?? String(e) };
}

try {
  const replica = await Replica.create(workerData as ReplicaInit);
  port.on('message', (m: ToReplica) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    try {
      const r = replica.step(m.indices, m.scale);
      port.postMessage({ type: 'done', id: m.id, ...r } satisfies FromReplica);
    } catch (e) {
      port.postMessage(errorMessage(e, m.id));
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromReplica);
} catch (e) {
  port.postMessage(errorMessage(e));
}
