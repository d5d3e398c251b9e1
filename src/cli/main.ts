/** The `tessera` executable's entry (bin/tessera.js imports this file): runs the command in argv. */
import { runCli } from './dispatch.js';

process.exitCode = await runCli(process.argv.slice(2));
