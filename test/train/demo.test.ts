/** The `tessera demo` command behind `npm start`, and the CLI dispatcher around it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliIO } from '../../src/cli/command.js';
import { runDemo } from '../../src/cli/commands/demo.js';
import { commandNames, runCli } from '../../src/cli/dispatch.js';

function capture(): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

test('demo: the loss falls and the spirals are learned', () => {
  const r = runDemo();
  assert.equal(r.losses.length, 30);
  // Three classes start near chance: cross-entropy ~ ln 3.
  assert.ok(Math.abs(r.losses[0]! - Math.log(3)) < 0.3, `first loss ${r.losses[0]}`);
  assert.ok(r.losses.at(-1)! < r.losses[0]! / 4, `loss ${r.losses[0]} -> ${r.losses.at(-1)}`);
  assert.ok(r.accuracy > 0.9, `training accuracy ${r.accuracy}`);
  // Seeded: a second run is identical.
  assert.deepEqual(runDemo().losses, r.losses);
});

test('tessera demo prints one line per epoch', async () => {
  const io = capture();
  assert.equal(await runCli(['demo', '--epochs', '3', '--points', '30'], io), 0);
  const epochs = io.lines.filter((l) => /^epoch +\d+\/3 +loss \d+\.\d{4}/.test(l));
  assert.equal(epochs.length, 3);
  assert.match(io.lines.at(-1)!, /^done in \d+\.\ds: training accuracy \d+\.\d%, macro F1 \d\.\d{3}$/);
});

test('CLI: help, unknown commands and bad options', async () => {
  assert.ok(commandNames().includes('demo'));
  const help = capture();
  assert.equal(await runCli(['help'], help), 0);
  assert.ok(help.lines.some((l) => /^ {2}demo +Train a small MLP/.test(l)));
  const usage = capture();
  assert.equal(await runCli(['demo', '--help'], usage), 0);
  assert.match(usage.lines[0]!, /^Usage: tessera demo/);
  const unknown = capture();
  assert.equal(await runCli(['frobnicate'], unknown), 2);
  assert.match(unknown.errors[0]!, /unknown command 'frobnicate'; expected one of: .*demo/);
  const traversal = capture();
  assert.equal(await runCli(['../main'], traversal), 2);
  const bad = capture();
  assert.equal(await runCli(['demo', '--epochs', 'many'], bad), 2);
  assert.equal(bad.errors[0], "tessera demo: --epochs expects an integer >= 1, got 'many'");
});
