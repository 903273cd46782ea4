/**
 * Entry point of the `sweep` command (bin/sweep.js): `sweep run|plan|results ...`.
 * See src/cli/sweep-commands.ts.
 */
import { sweepMain } from './sweep-commands.js';

process.exitCode = await sweepMain(process.argv.slice(2));
