/** Opening a model for the commands: load the file, start the device, build an InferenceSession. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readToCpu } from '../../runtime/device.js';
import { TesseraError } from '../../runtime/errors.js';
import { InferenceSession } from '../../runtime/index.js';
import type { Device, Tensor } from '../../runtime/tensor.js';
import { UsageError } from './errors.js';
import { type LoadedModel, loadModelFile } from './model-file.js';
import type { InputSpec } from './tensor-files.js';

export function parseDevice(raw: string | undefined): Device {
  const d = raw ?? 'cpu';
  if (d !== 'cpu' && d !== 'webgpu') throw new UsageError(`--device expects cpu or webgpu, got '${d}'`);
  return d;
}

/** Starts the WebGPU backend when asked for (it loads only then). */
export async function startDevice(device: Device): Promise<void> {
  if (device === 'webgpu') {
    const { initWebGPU } = await import('../../backends/webgpu/index.js');
    await initWebGPU();
  }
}

export interface OpenModel {
  loaded: LoadedModel;
  session: InferenceSession;
  inputs: InputSpec[];
}

export async function openModel(path: string, device: Device): Promise<OpenModel> {
  const loaded = loadModelFile(path);
  await startDevice(device);
  const session = InferenceSession.fromModel(loaded.model, { device });
  const inputs = session.inputMetadata.map((m) =>
    m.isTensor ? { name: m.name, dtype: m.type, shape: m.shape } : { name: m.name },
  );
  return { loaded, session, inputs };
}

/** Outputs copied to the CPU (a WebGPU session's live on the GPU). */
export async function toCpu(outputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(outputs)) out[k] = await readToCpu(t);
  return out;
}

/**
 * Class labels for an output, when the model comes from a repository directory whose config.json
 * names a label file for it (Triton's label_filename), one label per line.
 */
export function labelsFor(modelFile: string, output: string): string[] | undefined {
  // <model>/<version>/model.onnx -> <model>/config.json
  const versionDir = dirname(modelFile);
  const modelDir = /^\d+$/.test(basename(versionDir)) ? dirname(versionDir) : versionDir;
  const cfgFile = join(modelDir, 'config.json');
  if (!existsSync(cfgFile)) return undefined;
  try {
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as {
      output?: { name?: string; label_filename?: string }[];
    };
    const entry = cfg.output?.find((o) => o.name === output);
    if (!entry?.label_filename) return undefined;
    return readFileSync(join(modelDir, entry.label_filename), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l !== '');
  } catch (e) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `cannot read the labels of output '${output}' from ${cfgFile}: ${(e as Error).message}`,
    );
  }
}
