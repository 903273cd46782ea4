/**
 * The `sweep` command: run, plan and results of a sweep file (see src/sweep/spec.ts).
 *
 *   sweep run sweeps/cartpole.yaml [--concurrency N] [--retries N] [--force] [--yes] [--logdir runs]
 *   sweep plan sweeps/cartpole.yaml          # the trial table, nothing runs
 *   sweep results runs/cartpole-lr           # results table, results.csv and results.json
 *   sweep report runs/cartpole-lr            # report.html: table, curves over seeds, best policy GIF
 *
 * Exit codes: 0 done, 1 a trial failed (or another error), 2 a problem with the
 * sweep file or the options, 130 interrupted.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import yargs from 'yargs';
import { ConfigError, suggestKey } from '../train/config.js';
import { checkTrialCount, DEFAULT_TRIAL_LIMIT, expandSweep, sweptParameters, type Trial } from '../sweep/expand.js';
import { LocalExecutor } from '../sweep/executor.js';
import { SweepLockedError } from '../sweep/lock.js';
import { createView, formatDuration } from '../sweep/progress-view.js';
import { collectResults, formatResults, writeResults } from '../sweep/results.js';
import { writeReport } from '../sweep/report.js';
import { runSweep, SweepChangedError } from '../sweep/scheduler.js';
import { loadSweepSpec, type SweepSpec } from '../sweep/spec.js';
import { readStatus } from '../sweep/status.js';

/** Where the CLI writes; tests pass their own. */
export interface SweepIo {
  out(text: string): void;
  err(text: string): void;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export const consoleIo: SweepIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  stdout: process.stdout,
};

/** Throughput the fused engine reaches on one core, and a trial's start-up, for `plan`'s estimate. */
const ESTIMATE_STEPS_PER_SECOND = 2000;
const ESTIMATE_STARTUP_SECONDS = 2;

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** How to invoke this command again: `npx sweep` through bin/sweep.js, else node with tsx. */
function commandPrefix(): string {
  const script = process.argv[1] ?? '';
  if (/(^|[\\/])sweep(\.js)?$/.test(script) && !script.endsWith(path.join('cli', 'sweep.js'))) return 'npx sweep';
  const relative = path.relative(process.cwd(), script) || script;
  return `node --import tsx ${shellQuote(relative)}`;
}

interface RunArgs {
  file: string;
  logdir: string;
  concurrency?: number;
  retries: number;
  force: boolean;
  yes: boolean;
  progressEvery: number;
}

function resumeCommand(args: RunArgs): string {
  const parts = [commandPrefix(), 'run', shellQuote(args.file)];
  if (args.logdir !== 'runs') parts.push('--logdir', shellQuote(args.logdir));
  if (args.concurrency !== undefined) parts.push('--concurrency', String(args.concurrency));
  if (args.retries > 0) parts.push('--retries', String(args.retries));
  if (args.force) parts.push('--force');
  if (args.yes) parts.push('--yes');
  return parts.join(' ');
}

function checkCount(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new ConfigError(`--${name} must be an integer >= ${min}, got ${value}`);
  }
}

async function commandRun(args: RunArgs, io: SweepIo): Promise<number> {
  checkCount('concurrency', args.concurrency, 1);
  checkCount('retries', args.retries, 0);
  const spec = await loadSweepSpec(args.file);
  checkTrialCount(spec, { yes: args.yes });
  const sweepDir = path.join(args.logdir, spec.name);
  const trials = expandSweep(spec, { sweepDir });
  const concurrency = args.concurrency ?? spec.concurrency ?? os.availableParallelism();
  const view = createView(io.stdout, { plainIntervalSeconds: args.progressEvery });
  const outcome = await runSweep({
    spec, trials, sweepDir, concurrency, retries: args.retries, force: args.force, view,
    executor: new LocalExecutor(),
    resumeCommand: resumeCommand(args),
    handleSignals: true,
    print: io.out,
    command: `${commandPrefix()} ${process.argv.slice(2).map(shellQuote).join(' ')}`,
  });
  await writeReportAfterRun(sweepDir, io);
  return outcome.exitCode;
}

/** The report is a by-product of a run: failing to write it must not fail the sweep. */
async function writeReportAfterRun(sweepDir: string, io: SweepIo): Promise<void> {
  try {
    io.out(`Report: ${await writeReport(sweepDir)}`);
  } catch (error) {
    io.err(`warning: could not write the sweep report: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function estimateSeconds(trials: Trial[], concurrency: number): number {
  // Trials start in order on the first free slot.
  const slots = new Array<number>(Math.max(1, Math.min(concurrency, trials.length))).fill(0);
  for (const trial of trials) {
    const next = slots.indexOf(Math.min(...slots));
    slots[next]! += ESTIMATE_STARTUP_SECONDS + trial.config.steps / ESTIMATE_STEPS_PER_SECOND;
  }
  return Math.max(0, ...slots);
}

/** The plan's text: a summary line and one row per trial. */
export async function formatPlan(spec: SweepSpec, trials: Trial[], options: { sweepDir: string; concurrency: number }): Promise<string> {
  const swept = sweptParameters(spec).map((parameter) => parameter.key);
  const states = new Map<string, string>();
  if (existsSync(options.sweepDir)) {
    for (const trial of trials) states.set(trial.name, (await readStatus(path.join(options.sweepDir, trial.name)))?.state ?? '-');
  }
  const header = ['#', 'trial', ...swept, 'seed', 'steps', ...(states.size > 0 ? ['state'] : [])];
  const rows = trials.map((trial) => [
    String(trial.index + 1), trial.name, ...swept.map((key) => String(trial.hparams[key])), String(trial.seed), String(trial.config.steps),
    ...(states.size > 0 ? [states.get(trial.name)!] : []),
  ]);
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const configurations = new Set(trials.map((trial) => trial.configIndex)).size;
  const totalSteps = trials.reduce((sum, trial) => sum + trial.config.steps, 0);
  const fixed = spec.parameters.filter((parameter) => !swept.includes(parameter.key))
    .map((parameter) => `${parameter.key}=${JSON.stringify(trials[0]?.config[parameter.key])}`);
  const lines = [
    `Sweep ${spec.name} (${spec.method}) from ${spec.file}: ${configurations} configurations x ${spec.seeds.length} seeds = ${trials.length} trials -> ${options.sweepDir}/`,
    `metric: ${spec.metric.name} (${spec.metric.goal})${swept.length > 0 ? `; swept: ${swept.join(', ')}` : ''}`,
    ...(fixed.length > 0 ? [`fixed: ${fixed.join(', ')}`] : []),
    `${totalSteps.toLocaleString('en-US')} steps in all; at about ${ESTIMATE_STEPS_PER_SECOND} steps/s per trial and ${options.concurrency} at a time: about ${formatDuration(estimateSeconds(trials, options.concurrency))} (plus evaluations)`,
    '',
    line(header),
    ...rows.map(line),
  ];
  if (trials.length > DEFAULT_TRIAL_LIMIT) lines.push('', `More than ${DEFAULT_TRIAL_LIMIT} trials: sweep run will ask for --yes.`);
  return lines.join('\n');
}

async function commandPlan(args: { file: string; logdir: string; concurrency?: number }, io: SweepIo): Promise<number> {
  checkCount('concurrency', args.concurrency, 1);
  const spec = await loadSweepSpec(args.file);
  checkTrialCount(spec, { yes: true });
  const sweepDir = path.join(args.logdir, spec.name);
  const trials = expandSweep(spec, { sweepDir });
  io.out(await formatPlan(spec, trials, { sweepDir, concurrency: args.concurrency ?? spec.concurrency ?? os.availableParallelism() }));
  return 0;
}

async function commandResults(args: { dir: string }, io: SweepIo): Promise<number> {
  const results = await collectResults(args.dir);
  const files = await writeResults(args.dir, results);
  io.out(formatResults(results));
  io.out(`\nResults: ${files.csv}, ${files.json}`);
  return 0;
}

async function commandReport(args: { dir: string }, io: SweepIo): Promise<number> {
  io.out(`Report: ${await writeReport(args.dir)}`);
  return 0;
}

class UsageError extends Error {}

/** Runs the sweep CLI; returns the exit code. */
export async function sweepMain(argv: string[], io: SweepIo = consoleIo): Promise<number> {
  let exitCode = 0;
  const guard = (work: () => Promise<number>) => async (): Promise<void> => {
    try {
      exitCode = await work();
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SweepChangedError || error instanceof SweepLockedError) {
        io.err(`error: ${error.message}`);
        exitCode = 2;
      } else {
        io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
        exitCode = 1;
      }
    }
  };
  const parser = yargs(argv)
    .scriptName('sweep')
    .usage('$0 <command>\n\nHyperparameter sweeps of rlsweep runs: every trial is a run (rlsweep-run) with its own folder, logs and status.')
    .command('run <file>', 'Run the trials of a sweep file (skips done trials; reruns the rest)', (y) => y
      .positional('file', { type: 'string', demandOption: true, description: 'Sweep file (YAML), e.g. sweeps/cartpole.yaml' })
      .option('logdir', { type: 'string', default: 'runs', description: 'Folder of sweeps: trials go to <logdir>/<sweep name>/<trial>/' })
      .option('concurrency', { type: 'number', description: 'Trials at once (default: the file\'s concurrency, else the number of CPUs)' })
      .option('retries', { type: 'number', default: 0, description: 'Run a failed trial again up to N more times' })
      .option('force', { type: 'boolean', default: false, description: 'Rerun done trials whose configuration the file changed (their old runs are moved aside)' })
      .option('yes', { type: 'boolean', default: false, description: `Run a sweep of more than ${DEFAULT_TRIAL_LIMIT} trials` })
      .option('progress-every', { type: 'number', default: 30, description: 'Seconds between status lines when the output is not a terminal (0 = only events)' })
      .example('$0 run sweeps/mountaincar.yaml', 'the README\'s main sweep')
      .example('$0 run sweeps/smoke.yaml --concurrency 2 --retries 1', ''),
    (args) => guard(() => commandRun({
      file: args.file, logdir: args.logdir, concurrency: args.concurrency, retries: args.retries, force: args.force, yes: args.yes,
      progressEvery: args['progress-every'],
    }, io))())
    .command('plan <file>', 'Print the trials of a sweep file without running anything', (y) => y
      .positional('file', { type: 'string', demandOption: true, description: 'Sweep file (YAML)' })
      .option('logdir', { type: 'string', default: 'runs', description: 'Folder of sweeps (to show the state of trials already run)' })
      .option('concurrency', { type: 'number', description: 'Trials at once, for the time estimate' }),
    (args) => guard(() => commandPlan({ file: args.file, logdir: args.logdir, concurrency: args.concurrency }, io))())
    .command('results <dir>', 'Print and write (results.csv, results.json) the results of a sweep folder', (y) => y
      .positional('dir', { type: 'string', demandOption: true, description: 'The sweep\'s folder, e.g. runs/cartpole-lr' }),
    (args) => guard(() => commandResults({ dir: args.dir }, io))())
    .command('report <dir>', 'Write <dir>/report.html: results table, learning curves over seeds, the best policy\'s GIF', (y) => y
      .positional('dir', { type: 'string', demandOption: true, description: 'The sweep\'s folder (or any folder of runs), e.g. runs/smoke' }),
    (args) => guard(() => commandReport({ dir: args.dir }, io))())
    .demandCommand(1, 'give a command: run, plan, results or report (see --help)')
    .strict()
    .help()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // Throwing stops yargs here; returning would let it run the command anyway.
      throw error ?? new UsageError(message);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const first = argv[0];
    const commands = ['run', 'plan', 'results', 'report'];
    const text = first !== undefined && !first.startsWith('-') && !commands.includes(first)
      ? `unknown command "${first}"${suggestKey(first, commands)}; commands: ${commands.join(', ')}`
      : /^Not enough non-option arguments/.test(error.message) && first !== undefined
        ? `sweep ${first} needs ${first === 'results' || first === 'report' ? `a sweep folder, e.g. sweep ${first} runs/smoke` : `a sweep file, e.g. sweep ${first} sweeps/smoke.yaml`}`
        : error.message;
    io.err(`error: ${text}\n(see sweep --help)`);
    return 2;
  }
  return exitCode;
}
