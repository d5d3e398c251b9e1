// Prints the WebGPU adapter the suite will use, or fails (exit 1) when there is none.
import { disposeWebGPU, initWebGPU } from '../../../src/backends/webgpu/index.js';

try {
  const info = await initWebGPU({ software: 'allow', log: () => {} });
  console.log(
    `WebGPU adapter: ${info.device || info.description} (${info.backend} backend, ${info.featureLevel}${info.software ? ', software' : ''})`,
  );
  await disposeWebGPU();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
