#!/usr/bin/env node
// Compiles the AssemblyScript kernels (src/backends/cpu/wasm/assembly) into two WebAssembly builds,
// plain SIMD and relaxed SIMD, under src/backends/cpu/wasm/build/, and copies them next to the
// compiled loader in dist/ when dist/ exists. Skips the compile when both builds are newer than
// every source. Run by `npm run build`, `npm run build:wasm`, `prepare` (npm install / npm ci) and
// `pretest`. `--force` rebuilds.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/backends/cpu/wasm/assembly');
const outDir = join(root, 'src/backends/cpu/wasm/build');
const distDir = join(root, 'dist/backends/cpu/wasm/build');
const force = process.argv.includes('--force');

const builds = [
  { file: 'tessera-simd.wasm', features: 'simd,threads' },
  { file: 'tessera-relaxed.wasm', features: 'simd,threads,relaxed-simd' },
];

const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
const newestSource = Math.max(
  ...sources.map((f) => statSync(join(srcDir, f)).mtimeMs),
  statSync(fileURLToPath(import.meta.url)).mtimeMs,
);
const upToDate = (f) => existsSync(f) && statSync(f).mtimeMs >= newestSource;

mkdirSync(outDir, { recursive: true });
const stale = builds.filter((b) => force || !upToDate(join(outDir, b.file)));
if (stale.length) {
  const asc = (await import('assemblyscript/asc')).default;
  for (const b of stale) {
    const out = join(outDir, b.file);
    const { error, stderr } = await asc.main([
      join(srcDir, 'index.ts'),
      '--outFile',
      out,
      '-O3',
      '--noAssert',
      '--runtime',
      'stub',
      '--use',
      'abort=',
      '--importMemory',
      '--sharedMemory',
      '--initialMemory',
      '1',
      '--maximumMemory',
      '32768',
      '--enable',
      b.features,
    ]);
    if (error) {
      console.error(stderr.toString());
      console.error(`build-wasm: ${b.file} failed: ${error.message}`);
      process.exit(1);
    }
    console.log(`build-wasm: wrote ${out}`);
  }
}
if (existsSync(join(root, 'dist'))) {
  mkdirSync(distDir, { recursive: true });
  for (const b of builds) copyFileSync(join(outDir, b.file), join(distDir, b.file));
}
