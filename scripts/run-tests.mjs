#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (through tsx). Suites that need their own
// process (WebGPU) live under test/isolated/ and are started by their own scripts.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'isolated' && name !== 'fixtures') find(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = find('test').sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    // One stuck test or a leaked handle must fail the run, never hang CI.
    '--test-timeout=300000',
    '--test-force-exit',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
