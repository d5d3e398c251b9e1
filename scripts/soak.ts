/**
 * `npm run soak`: the long load run. Starts the server `npm start` runs (on port 0), warms it up,
 * then drives the bundled models with autocannon (64 connections by default) in rounds, reading
 * the server's RSS and V8 heap from its /metrics after each round. Fails (exit 1) on any non-2xx
 * answer, connection error or timeout, or when RSS grows more than the bound from the end of the
 * warm-up to the end of the run. Prints a table and a summary line for the README.
 *
 *   npm run soak -- [--minutes 5] [--connections 64] [--round 30] [--bound-mib 64]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mib, runLoad, serverMemory } from '../test/production/load.js';
import { ROOT, startServe } from '../test/production/serve-process.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    round: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '20' },
    'bound-mib': { type: 'string', default: '64' },
  },
});
const minutes = Number(values.minutes);
const connections = Number(values.connections);
const roundS = Number(values.round);
const boundMib = Number(values['bound-mib']);

const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
const server = await startServe([], { TESSERA_THREADS: '' }, start.split(/\s+/).slice(1));
let failed = false;
try {
  console.log(
    `soak: ${minutes} min, ${connections} connections, rounds of ${roundS} s, against ${server.url}`,
  );
  await runLoad({ url: server.url, connections, seconds: Number(values.warmup), cnn: true });
  const base = await serverMemory(server.url);
  console.log(`after warm-up: RSS ${mib(base.rss)} MiB, heap ${mib(base.heapUsed)} MiB`);
  console.log('round  requests   req/s  p50 ms  p99 ms  non2xx  errors  RSS MiB  heap MiB');
  const rounds = Math.max(1, Math.round((minutes * 60) / roundS));
  let total = 0;
  const p99s: number[] = [];
  let last = base;
  for (let i = 1; i <= rounds; i++) {
    const r = await runLoad({ url: server.url, connections, seconds: roundS, cnn: true });
    last = await serverMemory(server.url);
    total += r.requests;
    p99s.push(r.p99);
    if (r.non2xx || r.errors || r.timeouts) failed = true;
    console.log(
      [
        i,
        r.requests,
        Math.round(r.rps),
        r.p50,
        r.p99,
        r.non2xx,
        r.errors + r.timeouts,
        mib(last.rss),
        mib(last.heapUsed),
      ]
        .map((v, k) => String(v).padStart(k === 0 ? 5 : 8))
        .join(''),
    );
  }
  const growth = last.rss - base.rss;
  if (growth > boundMib * 1024 * 1024) failed = true;
  const p99 = [...p99s].sort((a, b) => a - b)[Math.floor(p99s.length / 2)];
  console.log(
    `soak ${failed ? 'FAILED' : 'passed'}: ${total} requests in ${minutes} min at ${connections} connections, ` +
      `median round p99 ${p99} ms, RSS ${mib(base.rss)} -> ${mib(last.rss)} MiB (${growth >= 0 ? '+' : ''}${mib(growth)}, bound +${boundMib}), ` +
      `heap ${mib(base.heapUsed)} -> ${mib(last.heapUsed)} MiB`,
  );
} finally {
  const code = await server.stop();
  if (code !== 0) {
    console.log(`the server exited ${code} on SIGTERM`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
