/** Messages between the server (main thread) and its model worker threads. */
import type { ErrorInfo } from '../errors.js';
import type { ExecTiming, LoadSpec, ModelSignature } from '../executor.js';
import type { TensorPayload } from '../protocol/types.js';

export type ToWorker =
  | { type: 'load'; id: number; key: string; spec: LoadSpec }
  | { type: 'run'; id: number; key: string; spec: LoadSpec; inputs: TensorPayload[]; outputs: string[] }
  | { type: 'unload'; id: number; key: string };

export type FromWorker =
  | { id: number; ok: true; signature?: ModelSignature; outputs?: TensorPayload[]; timing?: ExecTiming }
  | { id: number; ok: false; error: ErrorInfo };
