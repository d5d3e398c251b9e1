/**
 * Moving tensors between devices. Backends other than cpu register a DeviceBackend here; the
 * registry's CPU fallback and `tensor.to(device)` both go through `moveToDevice`.
 */
import { setDeviceMover } from '../ops/registry.js';
import { setCreationDeviceMover } from './creation.js';
import { TesseraError } from './errors.js';
import type { Device, Tensor } from './tensor.js';

export interface DeviceBackend {
  device: Device;
  /** Synchronous upload of a CPU tensor. */
  upload(t: Tensor): Tensor;
  /** Asynchronous download to a CPU tensor. */
  download(t: Tensor): Promise<Tensor>;
  /** Synchronous download where the backend can (or throw). */
  downloadSync?(t: Tensor): Tensor;
}

const backends = new Map<Device, DeviceBackend>();

export function registerDeviceBackend(b: DeviceBackend): void {
  backends.set(b.device, b);
}
export function hasDevice(d: Device): boolean {
  return d === 'cpu' || backends.has(d);
}

function backendFor(d: Device): DeviceBackend {
  const b = backends.get(d);
  if (!b) {
    throw new TesseraError(
      'UNAVAILABLE',
      `device '${d}' is not available: its backend has not been initialized`,
    );
  }
  return b;
}

export function moveToDevice(t: Tensor, device: Device): Tensor {
  if (t.device === device) return t;
  if (device === 'cpu') {
    const b = backendFor(t.device);
    if (!b.downloadSync) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `tensor on ${t.device} can only be read asynchronously: await t.data()`,
      );
    }
    return b.downloadSync(t);
  }
  const cpu = t.device === 'cpu' ? t : moveToDevice(t, 'cpu');
  return backendFor(device).upload(cpu);
}

export async function readToCpu(t: Tensor): Promise<Tensor> {
  if (t.device === 'cpu') return t;
  return backendFor(t.device).download(t);
}

setDeviceMover(moveToDevice);
setCreationDeviceMover(moveToDevice);
