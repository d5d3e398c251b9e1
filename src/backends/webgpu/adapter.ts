/// <reference types="@webgpu/types" />
/**
 * Adapter selection (runs on the GPU thread): a hardware adapter when there is one; a software one
 * (Mesa llvmpipe through Dawn's OpenGL ES backend, Mesa lavapipe through Vulkan, SwiftShader) only
 * when the caller allows it; no adapter at all is an error with the reasons, never a crash.
 */
import type { AdapterInfo, ThreadInit } from './protocol.js';

type Create = (flags: string[]) => GPU;

/** Names a software rasterizer reports itself by. */
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i;

export function isSoftwareAdapter(info: {
  device?: string;
  description?: string;
  architecture?: string;
  vendor?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  if (info.isFallbackAdapter) return true;
  return SOFTWARE.test(
    `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`,
  );
}

export interface Picked {
  gpu: GPU;
  adapter: GPUAdapter;
  backend: string;
  featureLevel: 'core' | 'compatibility';
  software: boolean;
}

interface Candidate {
  backend: string;
  featureLevel: 'core' | 'compatibility';
}

function describe(a: GPUAdapter): string {
  const i = a.info;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * Tries Dawn's default backend order first (the platform's native API: a hardware GPU, or Mesa
 * lavapipe through Vulkan where Mesa is new enough for Dawn), then OpenGL ES in compatibility mode
 * (Mesa llvmpipe; needs EGL_PLATFORM=surfaceless without a display).
 */
export async function pickAdapter(create: Create, init: ThreadInit): Promise<Picked> {
  const candidates: Candidate[] = init.backend
    ? [
        { backend: init.backend, featureLevel: 'core' },
        { backend: init.backend, featureLevel: 'compatibility' },
      ]
    : [
        { backend: '', featureLevel: 'core' },
        { backend: 'opengles', featureLevel: 'compatibility' },
      ];
  const rejected: string[] = [];
  for (const c of candidates) {
    let gpu: GPU;
    try {
      gpu = create([...(c.backend ? [`backend=${c.backend}`] : []), ...(init.dawnFlags ?? [])]);
    } catch (e) {
      rejected.push(`${c.backend || 'default'}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    let adapter: GPUAdapter | null = null;
    try {
      adapter = await gpu.requestAdapter({
        powerPreference: init.powerPreference ?? 'high-performance',
        featureLevel: c.featureLevel,
      } as GPURequestAdapterOptions);
    } catch (e) {
      rejected.push(`${c.backend || 'default'}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!adapter) {
      rejected.push(`${c.backend || 'default'} (${c.featureLevel}): no adapter`);
      continue;
    }
    const software = isSoftwareAdapter({
      ...plainInfo(adapter),
      isFallbackAdapter: (adapter.info as any).isFallbackAdapter,
    });
    if (software && init.software === 'deny') {
      rejected.push(`${c.backend || 'default'}: ${describe(adapter)} is a software adapter (not allowed)`);
      continue;
    }
    if (!software && init.software === 'only') {
      rejected.push(
        `${c.backend || 'default'}: ${describe(adapter)} is hardware (software only was asked for)`,
      );
      continue;
    }
    return { gpu, adapter, backend: c.backend || 'default', featureLevel: c.featureLevel, software };
  }
  throw new Error(`no usable WebGPU adapter (${rejected.join('; ')})`);
}

function plainInfo(a: GPUAdapter): {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
} {
  const i = a.info;
  return {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
  };
}

const WANTED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;

/** Requests a device with the limits the kernels rely on: 256 invocations per workgroup, and the adapter's maxima for buffers. */
export async function openDevice(p: Picked): Promise<{ device: GPUDevice; info: AdapterInfo }> {
  const al = p.adapter.limits as unknown as Record<string, number>;
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) if (al[k] !== undefined) requiredLimits[k] = al[k]!;
  for (const k of [
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
  ]) {
    if (al[k] !== undefined) requiredLimits[k] = Math.min(256, al[k]!);
  }
  const features: GPUFeatureName[] = [];
  if (p.adapter.features.has('shader-f16')) features.push('shader-f16');
  const device = await p.adapter.requestDevice({ requiredLimits, requiredFeatures: features });
  const dl = device.limits as unknown as Record<string, number>;
  const limits: Record<string, number> = {};
  for (const k of [...WANTED_LIMITS, 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX'])
    limits[k] = dl[k]!;
  return {
    device,
    info: {
      ...plainInfo(p.adapter),
      backend: p.backend,
      software: p.software,
      featureLevel: p.featureLevel,
      features: [...device.features].map(String),
      limits,
    },
  };
}
