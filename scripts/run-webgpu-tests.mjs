#!/usr/bin/env node
// Runs the WebGPU suite (test/isolated/webgpu/*.test.ts) in its own processes, one file at a time:
// Dawn lives on a GPU thread per process, apart from every other test. With no GPU the suite uses a
// software adapter (Mesa llvmpipe through Dawn's OpenGL ES backend); where no adapter at all can be
// had it is skipped with a message, unless TESSERA_WEBGPU_REQUIRED=1 (CI) makes that a failure.
//
//   node scripts/run-webgpu-tests.mjs [filter...] [--repeat N]
//
// --repeat N (or TESSERA_WEBGPU_REPEAT) runs the whole suite N times in a row and stops at the
// first failing round: the stability check (a crash in Dawn shows up as a signal exit).
// TESSERA_WEBGPU_FULL=1 adds the light/ and real-model conformance gate (round 1 only).
//
// The native float16 tests (f16.test.ts) need an adapter with shader-f16: where the probe says
// float16 is emulated they are left out with a message (a process start saved per round), and
// TESSERA_WEBGPU_REQUIRE_F16=1 makes that a failure. TESSERA_WEBGPU_BACKEND=vulkan|opengles|...
// forces one Dawn backend (e.g. Mesa lavapipe through Vulkan, which has shader-f16).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
let repeat = Number(process.env.TESSERA_WEBGPU_REPEAT ?? 1);
const filter = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repeat') repeat = Number(args[++i]);
  else filter.push(args[i]);
}
const dir = join('test', 'isolated', 'webgpu');
let files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join(dir, f));
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));

// Dawn's OpenGL ES backend reaches Mesa through EGL: without a display it needs the surfaceless platform.
const env = { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' };

const probe = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'probe.ts')], {
  env,
  encoding: 'utf8',
});
if (probe.status !== 0) {
  const why = (probe.stdout + probe.stderr).trim().split('\n').slice(-3).join('\n');
  if (process.env.TESSERA_WEBGPU_REQUIRED === '1') {
    console.error(`WebGPU suite: no usable adapter, and TESSERA_WEBGPU_REQUIRED=1:\n${why}`);
    process.exit(1);
  }
  console.log(`WebGPU suite skipped: no usable adapter here (${why.split('\n').pop()})`);
  process.exit(0);
}
console.log(probe.stdout.trim());
if (!/float16 native/.test(probe.stdout)) {
  const why = 'the adapter lacks shader-f16 (float16 is emulated in f32 there, which the other files test)';
  if (process.env.TESSERA_WEBGPU_REQUIRE_F16 === '1') {
    console.error(`WebGPU suite: native float16 was required (TESSERA_WEBGPU_REQUIRE_F16=1), but ${why}`);
    process.exit(1);
  }
  const f16 = files.filter((f) => f.endsWith('f16.test.ts'));
  if (f16.length) {
    files = files.filter((f) => !f16.includes(f));
    console.log(`native float16 tests skipped (${f16.join(', ')}): ${why}`);
  }
}
if (files.length === 0) {
  console.log('WebGPU suite: no test file left to run');
  process.exit(0);
}

for (let round = 1; round <= repeat; round++) {
  if (repeat > 1) console.log(`\n=== WebGPU suite, round ${round} of ${repeat} ===`);
  // TESSERA_WEBGPU_FULL (light/ and real models, minutes on a software adapter) applies to round 1.
  const roundEnv = round === 1 ? env : { ...env, TESSERA_WEBGPU_FULL: '0' };
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      // A hang fails the run rather than blocking CI.
      '--test-timeout=900000',
      ...files,
    ],
    { stdio: 'inherit', env: roundEnv },
  );
  if (r.status !== 0) {
    console.error(
      `WebGPU suite failed in round ${round} (${r.signal ? `signal ${r.signal}` : `exit code ${r.status}`})`,
    );
    process.exit(r.status || 1);
  }
}
