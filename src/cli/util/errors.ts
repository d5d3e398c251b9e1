/**
 * How the commands end: exit 0 on success, 2 when the command line is wrong (a flag, a missing
 * argument: the message says what to change and points at --help), 1 when the command line is
 * fine but the work failed (a file that cannot be read, a model that does not fit its inputs): the
 * message names the file, the input, what was expected and what was got, plus a hint where one
 * helps. Bugs keep their stack trace.
 */
import { TesseraError } from '../../runtime/errors.js';
import type { CliIO } from '../command.js';
import { colorEnabled, style } from './style.js';

/** A command-line mistake: exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const HINTS: Partial<Record<TesseraError['code'], string>> = {
  SHAPE_MISMATCH: "'tessera inspect MODEL' lists the inputs the model expects",
  DTYPE_MISMATCH: "'tessera inspect MODEL' lists the input types the model expects",
  UNSUPPORTED: 'docs/OPS.md lists the supported ops and opset versions',
};

/** Runs a command body and turns its errors into a message and an exit code. */
export async function runCommand(
  name: string,
  io: CliIO,
  body: () => Promise<number> | number,
): Promise<number> {
  const s = style(colorEnabled(process.stderr));
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${s.red(`tessera ${name}:`)} ${e.message}`);
      io.err(`Run 'tessera ${name} --help' for the options and examples.`);
      return EXIT_USAGE;
    }
    if (e instanceof TesseraError && e.code !== 'INTERNAL') {
      io.err(`${s.red(`tessera ${name}:`)} ${e.message}`);
      const hint = HINTS[e.code];
      if (hint) io.err(s.dim(`hint: ${hint}`));
      return EXIT_FAILURE;
    }
    throw e;
  }
}
