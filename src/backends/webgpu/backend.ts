/**
 * The DeviceBackend for 'webgpu' (src/runtime/device.ts): uploads are synchronous (queued in
 * command order), downloads asynchronous, and `downloadSync` blocks on the GPU thread, which is
 * what `t.to('cpu')`, `t.item()`-style access and the registry's CPU fallback rely on.
 */
import type { DeviceBackend } from '../../runtime/device.js';
import type { DataArray } from '../../runtime/dtype.js';
import { Tensor } from '../../runtime/tensor.js';
import type { GpuBuffer } from './client.js';
import { decodeFromGpu, reprOf } from './repr.js';
import { gpu, upload } from './runtime.js';

/** A CPU tensor with `t`'s view over the decoded storage, packed to a fresh contiguous tensor. */
function asCpu(t: Tensor, data: DataArray, fresh: boolean): Tensor {
  const full = new Tensor(
    { device: 'cpu', data, length: data.length },
    t.shape,
    t.dtype,
    t.strides,
    t.offset,
  );
  const packed = full.dataSync();
  // A shadow copy stays with the GPU buffer, so the caller gets its own array.
  const shared =
    !fresh &&
    (packed === data || (ArrayBuffer.isView(packed) && packed.buffer === (data as Uint8Array).buffer));
  return Tensor.fromData(shared ? (packed.slice(0) as DataArray) : packed, t.shape, t.dtype);
}

function storageBytes(t: Tensor): number {
  return t.storage.length * reprOf(t.dtype).bytes;
}

export function downloadSync(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) return t;
  const buf = t.storage.handle as GpuBuffer;
  if (buf.shadow) return asCpu(t, buf.shadow, false);
  const n = t.storage.length;
  if (n === 0 || t.numel() === 0)
    return asCpu(t, decodeFromGpu(t.dtype, new ArrayBuffer(storageBytes(t)), n), true);
  return asCpu(t, decodeFromGpu(t.dtype, gpu().readSync(buf, storageBytes(t)), n), true);
}

export async function download(t: Tensor): Promise<Tensor> {
  if (!(t instanceof Tensor)) return t;
  const buf = t.storage.handle as GpuBuffer;
  if (buf.shadow) return asCpu(t, buf.shadow, false);
  const n = t.storage.length;
  if (n === 0 || t.numel() === 0)
    return asCpu(t, decodeFromGpu(t.dtype, new ArrayBuffer(storageBytes(t)), n), true);
  return asCpu(t, decodeFromGpu(t.dtype, await gpu().read(buf, storageBytes(t)), n), true);
}

export const webgpuBackend: DeviceBackend = {
  device: 'webgpu',
  upload,
  download,
  downloadSync,
};
