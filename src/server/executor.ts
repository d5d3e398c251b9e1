/**
 * What the server needs from whatever runs models: load a model file into a session, run it, and
 * unload it. The worker pool implements it (sessions in worker threads); tests use fakes.
 */
import type { DType } from '../runtime/dtype.js';
import type { Device } from '../runtime/tensor.js';
import type { TensorPayload } from './protocol/types.js';

/** A model input or output as the session reports it; -1 marks a variable (symbolic) dimension. */
export interface TensorSignature {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

export interface LoadSpec {
  /** Absolute path of model.onnx (or model.tsr). */
  file: string;
  device: Device;
}

/** Nanoseconds spent per phase of one execution (Triton's compute_input / compute_infer / compute_output). */
export interface ExecTiming {
  inputNs: number;
  inferNs: number;
  outputNs: number;
}

export interface RunResult {
  outputs: TensorPayload[];
  timing: ExecTiming;
}

export interface ModelExecutor {
  /** Loads the model under `key` (unique per load) and returns its inputs and outputs. */
  load(key: string, spec: LoadSpec): Promise<ModelSignature>;
  run(key: string, inputs: TensorPayload[], outputNames: string[]): Promise<RunResult>;
  unload(key: string): Promise<void>;
  /** How many executions can run at once (the pool's worker count). */
  readonly concurrency: number;
  close(): Promise<void>;
}
