// Issue 3's op-coverage target: every op type the conformance data uses (OPS_SUMMARY.tsv for node/,
// OPS_OTHER.tsv for the other suites) is in the op registry, or README.md names it with the
// reason it is not.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/index.js';
import { findOp } from '../../src/ops/registry.js';
import { REPO_ROOT, sharedDir } from './harness.js';

const dir = join(sharedDir(), 'onnx-tests');
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** Op types (optionally `domain::Name`) in the columns of a TSV whose header names them. */
function opTypes(file: string): Set<string> {
  const rows = readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const header = rows[0]!.split('\t');
  const cols = header.flatMap((h, i) => (/op_type/.test(h) ? [i] : []));
  const ops = new Set<string>();
  for (const r of rows.slice(1)) {
    const cells = r.split('\t');
    for (const c of cols) {
      for (const o of (cells[c] ?? '').split(/[\s,;]+/)) if (/^([a-z.]+::)?[A-Z]\w*$/.test(o)) ops.add(o);
    }
  }
  return ops;
}

test('every op type of OPS_SUMMARY.tsv and OPS_OTHER.tsv is implemented or listed in the README', {
  skip: existsSync(dir) ? false : 'no ../shared/onnx-tests',
}, () => {
  const all = new Set([...opTypes('OPS_SUMMARY.tsv'), ...opTypes('OPS_OTHER.tsv')]);
  assert.ok(all.size > 200, `only ${all.size} op types read`);
  const missing = [...all].filter((o) => {
    const i = o.lastIndexOf('::');
    const [domain, name] = i < 0 ? [undefined, o] : [o.slice(0, i), o.slice(i + 2)];
    return !findOp(name, undefined, domain);
  });
  const undocumented = missing.filter((o) => !readme.includes(`\`${o}\``));
  assert.deepEqual(
    undocumented,
    [],
    `not implemented and not explained in README.md: ${undocumented.join(', ')}`,
  );
});
