/**
 * Load: the server `npm start` runs (its command, read from package.json, on port 0) driven by
 * autocannon with 64 concurrent connections for a bounded time (5 s here; TESSERA_LOAD_SECONDS
 * for longer, `npm run soak` for the long run): every valid request answers 2xx, the p99 latency
 * is reported, and the server's RSS after the run stays within a stated bound of what it was
 * after warm-up.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mib, runLoad, serverMemory } from './load.js';
import { ROOT, type ServeProcess, startServe } from './serve-process.js';

const SECONDS = Number(process.env.TESSERA_LOAD_SECONDS ?? 5);
const CONNECTIONS = 64;
/** RSS growth allowed across the measured run, after warm-up. */
const RSS_BOUND_MIB = 96;

let server: ServeProcess;

/** `npm start`'s command line (package.json scripts.start), less `node`. */
function npmStartCommand(): string[] {
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  const [node, ...rest] = start.split(/\s+/);
  assert.equal(node, 'node', 'npm start runs node');
  return rest;
}

before(async () => {
  // Default thread count, as npm start has it.
  server = await startServe([], { TESSERA_THREADS: '' }, npmStartCommand());
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

describe('load', () => {
  it(`${CONNECTIONS} connections for ${SECONDS} s: zero non-2xx, p99 reported, RSS bounded`, {
    timeout: 60_000 + SECONDS * 3000,
  }, async (t) => {
    await runLoad({ url: server.url, connections: CONNECTIONS, seconds: 1, cnn: true });
    const before = await serverMemory(server.url);
    const r = await runLoad({ url: server.url, connections: CONNECTIONS, seconds: SECONDS, cnn: true });
    const afterRun = await serverMemory(server.url);
    const growth = afterRun.rss - before.rss;
    const summary =
      `${r.requests} requests, ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; ` +
      `RSS ${mib(before.rss)} -> ${mib(afterRun.rss)} MiB (bound +${RSS_BOUND_MIB}), heap ${mib(before.heapUsed)} -> ${mib(afterRun.heapUsed)} MiB`;
    t.diagnostic(summary);
    console.log(`load: ${summary}`);
    assert.ok(r.requests > 0);
    assert.equal(r.errors, 0, 'connection errors');
    assert.equal(r.timeouts, 0, 'timeouts');
    assert.equal(r.non2xx, 0, 'non-2xx answers to valid requests');
    assert.ok(growth < RSS_BOUND_MIB * 1024 * 1024, `RSS grew ${mib(growth)} MiB`);
  });
});
