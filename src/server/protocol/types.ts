/** Shapes of the Open Inference Protocol (KServe v2) HTTP/REST objects, and the server's tensor payload. */
import type { DataArray, DType } from '../../runtime/dtype.js';
import type { V2Datatype } from '../datatypes.js';

/** A tensor as the server moves it around: flat row-major storage (string[] for BYTES). */
export interface TensorPayload {
  name: string;
  dtype: DType;
  shape: number[];
  data: DataArray;
}

export type Parameters = Record<string, unknown>;

/** One input of a parsed request; its data is still in wire form until `decodeInput` runs. */
export interface RawInput {
  name: string;
  datatype: V2Datatype;
  dtype: DType;
  shape: number[];
  parameters: Parameters;
  /** JSON `data` (flat or nested), when the tensor came as JSON. */
  json?: unknown;
  /** The tensor's bytes, when it came through the binary tensor data extension. */
  binary?: Uint8Array;
}

export interface RequestedOutput {
  name: string;
  /** `binary_data` from the output's parameters; undefined falls back to the request's `binary_data_output`. */
  binary?: boolean;
  /** Classification extension: return the top-k classes as "score:index" strings. */
  classification?: number;
  parameters: Parameters;
}

export interface ParsedInferRequest {
  id?: string;
  parameters: Parameters;
  inputs: RawInput[];
  /** Outputs the client asked for; undefined means every output of the model. */
  outputs?: RequestedOutput[];
  /** `binary_data_output` from the request parameters. */
  binaryOutput: boolean;
}

export interface ResponseOutput {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  parameters?: Parameters;
  data?: unknown[];
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutput[];
}
