// Prints the WebGPU adapter the suite will use, or fails (exit 1) when there is none.
import { disposeWebGPU, initWebGPU } from '../../../src/backends/webgpu/index.js';

try {
  const info = await initWebGPU({ software: 'allow', log: () => {} });
  console.log(
    `WebGPU adapter: ${info.device || info.description} (${info.backend} backend, ${info.featureLevel}${info.software ? ', software' : ''}, float16 ${info.float16 === 'native' ? 'native (shader-f16)' : 'emulated in f32'})`,
  );
  await disposeWebGPU();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
