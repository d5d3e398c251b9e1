/** Finds and runs a command: `tessera <command> [args]`, `tessera help [command]`, `tessera --version`. */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TesseraError } from '../runtime/errors.js';
import { type CliIO, type Command, stdio } from './command.js';

const COMMANDS_DIR = new URL('./commands/', import.meta.url);
// Command names are file names: lower-case words joined by dashes (nothing that could leave the folder).
const NAME = /^[a-z][a-z0-9-]*$/;
// Sources run through tsx (.ts) or the build (dist, .js); both have their command files beside this one.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The names of the available commands (the files in src/cli/commands/). */
export function commandNames(): string[] {
  return readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith(EXT) && !f.endsWith('.d.ts') && NAME.test(f.slice(0, -EXT.length)))
    .map((f) => f.slice(0, -EXT.length))
    .sort();
}

export async function loadCommand(name: string): Promise<Command | undefined> {
  if (!NAME.test(name) || !commandNames().includes(name)) return undefined;
  const mod = (await import(new URL(`${name}${EXT}`, COMMANDS_DIR).href)) as { default?: Command };
  const cmd = mod.default;
  if (!cmd || typeof cmd.run !== 'function' || cmd.name !== name) {
    throw new TesseraError(
      'INTERNAL',
      `src/cli/commands/${name}${EXT} does not default-export a Command named '${name}'`,
    );
  }
  return cmd;
}

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

async function help(io: CliIO): Promise<void> {
  io.out('Usage: tessera <command> [options]\n\nCommands:');
  for (const name of commandNames()) {
    const cmd = await loadCommand(name);
    io.out(`  ${name.padEnd(12)} ${cmd?.summary ?? ''}`);
  }
  io.out(`  ${'help'.padEnd(12)} Show this help, or a command's usage: tessera help <command>`);
}

/** Runs the CLI on `argv` (the arguments after `tessera`) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO = stdio): Promise<number> {
  const [first, ...rest] = argv;
  if (
    first === undefined ||
    first === '--help' ||
    first === '-h' ||
    (first === 'help' && rest.length === 0)
  ) {
    await help(io);
    return first === undefined ? 1 : 0;
  }
  if (first === '--version' || first === '-v') {
    io.out(version());
    return 0;
  }
  const name = first === 'help' ? rest[0]! : first;
  const cmd = await loadCommand(name);
  if (!cmd) {
    io.err(
      `tessera: unknown command '${name}'; expected one of: ${commandNames().join(', ')} (see 'tessera help')`,
    );
    return 2;
  }
  const args = first === 'help' ? ['--help'] : rest;
  if (args.includes('--help') || args.includes('-h')) {
    io.out(cmd.usage ?? `Usage: tessera ${cmd.name}\n\n${cmd.summary}`);
    return 0;
  }
  try {
    return await cmd.run(args, io);
  } catch (e) {
    // Errors a user can cause are reported in one line; anything else keeps its stack.
    if (e instanceof TesseraError && e.code !== 'INTERNAL') {
      io.err(`tessera ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
