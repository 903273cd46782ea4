/**
 * Single-run entry point: `npx tsx src/run.ts [options]` (also the `rlsweep-run` command).
 * Trains a DQN agent, or with --model watches/evaluates a snapshot. See --help.
 */
import { runCli } from './cli/run.js';

process.exitCode = await runCli(process.argv.slice(2));
