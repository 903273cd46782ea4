/**
 * The CLIs run in-process, as the tests of bad inputs drive them: run.ts (runCli) and
 * sweep (sweepMain), with their output kept in memory; and a fingerprint of a runs
 * folder, to check that a failed command left it exactly as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { memoryOutput } from '../../src/train/run-output.js';
import { runCli } from '../../src/cli/run.js';
import { sweepMain } from '../../src/cli/sweep-commands.js';

export interface CommandResult {
  code: number;
  /** stdout and stderr lines, in order. */
  text: string;
}

/** A fingerprint of every file under the runs folder: names, sizes and contents. */
export function fingerprint(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const hash = createHash('sha256');
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, name);
    hash.update(name);
    if (statSync(full).isFile()) hash.update(readFileSync(full));
  }
  return hash.digest('hex');
}

/** run.ts with these arguments. */
export async function runCommand(...args: string[]): Promise<CommandResult> {
  const output = memoryOutput();
  const code = await runCli(args, output);
  return { code, text: output.lines.join('\n') };
}

/** `sweep` with these arguments (stdout not a terminal, 100 columns). */
export async function sweepCommand(...args: string[]): Promise<CommandResult> {
  const lines: string[] = [];
  const stdout = Object.assign(new PassThrough(), { isTTY: false, columns: 100 });
  const code = await sweepMain(args, { out: (t) => lines.push(t), err: (t) => lines.push(t), stdout });
  return { code, text: lines.join('\n') };
}

/** The flags of a tiny CartPole run (300 steps, no GIF): a real run folder in about a second; `changes` replace flags' values. */
export function tinyRunFlags(logdir: string, name: string, changes: Record<string, string> = {}): string[] {
  const flags: Record<string, string | undefined> = {
    env: 'CartPole-v1',
    steps: '300',
    'train-start': '100',
    'eval-every': '0',
    'eval-episodes': '1',
    'q-validation-size': '50',
    'log-every': '100',
    ...changes,
    logdir,
    name,
  };
  return [...Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, value!]), '--no-eval-gif'];
}
