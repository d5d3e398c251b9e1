#!/usr/bin/env node
// Compiles the native GEMM (src/backends/cpu/native: C++, one object per instruction set, picked at
// load time from what the CPU supports) into a Node-API addon, src/backends/cpu/native/build/
// tessera-native.node, with the machine's C++ compiler (CXX, else g++) against Node's own headers
// (next to the node binary, or npm_config_nodedir). Nothing is downloaded. When there is no
// compiler or no headers, or the compile fails, it says so and exits 0: the WASM kernels then run
// every product, as they do with TESSERA_NATIVE=0. TESSERA_NATIVE_BUILD=0 skips the build.
// Run by `prepare` (npm install / npm ci), `pretest` and `npm run build` (which copies the addon
// next to the compiled loader in dist/). Skips the compile when the addon is newer than every source;
// `--force` rebuilds.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/backends/cpu/native');
const outDir = join(srcDir, 'build');
const out = join(outDir, 'tessera-native.node');
const distDir = join(root, 'dist/backends/cpu/native/build');
const force = process.argv.includes('--force');

function skip(why) {
  console.log(`build-native: ${why}; matrix products run on the WASM kernels`);
  process.exit(0);
}

if (process.env.TESSERA_NATIVE_BUILD === '0') skip('skipped (TESSERA_NATIVE_BUILD=0)');

const sources = readdirSync(srcDir).filter((f) => /\.(cc|h|inc)$/.test(f));
const newestSource = Math.max(
  ...sources.map((f) => statSync(join(srcDir, f)).mtimeMs),
  statSync(fileURLToPath(import.meta.url)).mtimeMs,
);

if (force || !existsSync(out) || statSync(out).mtimeMs < newestSource) {
  const cxx = process.env.CXX || 'g++';
  if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) skip(`no C++ compiler (${cxx})`);
  const includeDirs = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node'),
    join(dirname(process.execPath), '../include/node'),
  ].filter(Boolean);
  const include = includeDirs.find((d) => existsSync(join(d, 'node_api.h')));
  if (!include) skip(`Node's headers (node_api.h) not found in ${includeDirs.join(', ')}`);

  // Per instruction set: the flags its object is compiled with. The AVX builds exist only on x86-64;
  // addon.cc refers to them only there.
  const x64 = process.arch === 'x64';
  const objects = [
    ...(x64
      ? [
          { src: 'gemm-avx512.cc', flags: ['-mavx512f', '-mavx512vl', '-mfma'] },
          { src: 'gemm-avx2.cc', flags: ['-mavx2', '-mfma'] },
        ]
      : []),
    { src: 'gemm-generic.cc', flags: [] },
    // A multiply then an add, rounded apart, as the ops they stand for (see elementwise.cc).
    { src: 'elementwise.cc', flags: ['-ffp-contract=off'] },
    { src: 'strided.cc', flags: [] },
    { src: 'memory.cc', flags: [] },
    { src: 'addon.cc', flags: [`-I${include}`] },
  ];
  const tmp = join(outDir, `.tmp-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const common = ['-std=gnu++17', '-O3', '-fPIC', '-fvisibility=hidden', '-Wall'];
  const run = (args) =>
    new Promise((resolve) => {
      const p = spawn(cxx, args, { stdio: ['ignore', 'inherit', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => {
        err += d;
      });
      p.on('close', (code) => resolve({ code, err }));
      p.on('error', (e) => resolve({ code: -1, err: String(e) }));
    });
  const compiled = await Promise.all(
    objects.map((o) =>
      run([...common, ...o.flags, '-c', join(srcDir, o.src), '-o', join(tmp, `${o.src}.o`)]),
    ),
  );
  const failed = compiled.find((r) => r.code !== 0);
  const linked =
    failed ??
    (await run(['-shared', '-o', join(tmp, 'addon.node'), ...objects.map((o) => join(tmp, `${o.src}.o`))]));
  if (linked.code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(linked.err);
    skip('compile failed');
  }
  // Renamed into place whole: a process loading the addon never sees half a file.
  renameSync(join(tmp, 'addon.node'), out);
  rmSync(tmp, { recursive: true, force: true });
  console.log(`build-native: wrote ${out}`);
}
if (existsSync(join(root, 'dist'))) {
  mkdirSync(distDir, { recursive: true });
  copyFileSync(out, join(distDir, 'tessera-native.node'));
}
