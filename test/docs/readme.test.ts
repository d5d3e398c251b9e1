// Runs every ```ts readme-run block of README.md as written (with 'tessera' resolved to this
// checkout's sources), so the README's examples cannot rot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts readme-run\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('README has runnable examples', () => {
  assert.ok(blocks.length >= 2, 'expected the seed example and the training loop');
});

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs as written`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
    const file = join(dir, `example${i}.mts`);
    const entry = pathToFileURL(join(root, 'src/index.ts')).href;
    writeFileSync(file, code.replaceAll("from 'tessera'", `from '${entry}'`));
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    // Every `// expected` comment in the block must match the printed line.
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!.trim());
    const lines = r.stdout.trim().split('\n');
    for (const e of expected) assert.ok(lines.includes(e), `expected a line '${e}' in:\n${r.stdout}`);
    if (i === 1) {
      // The training loop: the loss printed at epoch 75 is well below the one at epoch 0.
      const losses = lines.map((l) => Number(l.split(' ')[1]));
      assert.ok(losses.at(-1)! < losses[0]! / 3, `loss did not fall: ${r.stdout}`);
    }
  });
});
