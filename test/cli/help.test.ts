// Every command answers --help with usage and examples; colours appear only on a terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { commandNames } from '../../src/cli/dispatch.js';
import { colorEnabled, style } from '../../src/cli/util/style.js';
import { cli } from './helpers.js';

test('tessera --help lists the commands; each of predict, train, convert, bench has examples', async () => {
  const top = await cli('--help');
  assert.equal(top.code, 0);
  for (const name of ['serve', 'predict', 'train', 'inspect', 'convert', 'bench']) {
    assert.ok(commandNames().includes(name), name);
    assert.match(top.out, new RegExp(`^  ${name}\\s+\\S`, 'm'));
  }
  for (const name of ['predict', 'train', 'convert', 'bench']) {
    const r = await cli(name, '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^Usage: tessera ${name} `));
    assert.match(r.out, /\nExamples:\n {2}tessera /);
    const h = await cli('help', name);
    assert.equal(h.out, r.out);
  }
});

test('colours: only on a TTY, never with NO_COLOR or TERM=dumb, always with FORCE_COLOR', () => {
  assert.equal(colorEnabled({ isTTY: true }, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, {}), false);
  assert.equal(colorEnabled(undefined, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(style(false).red('x'), 'x');
  assert.equal(style(true).red('x'), '\x1b[31mx\x1b[39m');
});

test('the tessera executable: exit code 2 and a plain (uncoloured) message off a terminal', () => {
  const r = spawnSync(process.execPath, ['bin/tessera.js', 'predict', 'models/mlp', '-i', 'nope=[[1]]'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '' },
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^tessera predict: --input: the model has no input 'nope'; its inputs are input\n/);
  assert.ok(!r.stderr.includes('\x1b['), 'colour codes off a terminal');
});
