/**
 * The contract of a CLI command. Each command is one file under src/cli/commands/<name>.ts whose
 * default export is a Command; `tessera <name> ...` loads that file on demand, so adding a command
 * is adding a file (no list to edit), and a command's dependencies (express, ...) load only when
 * it runs.
 */

/** Where a command writes: stdout/stderr by default, captured in tests. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

export interface Command {
  /** The word after `tessera`; must equal the file name. */
  name: string;
  /** One line for `tessera help`. */
  summary: string;
  /** Usage text for `tessera <name> --help`. */
  usage?: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: CliIO): Promise<number> | number;
}

export const stdio: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
