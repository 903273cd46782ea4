/**
 * The `sweep` command: run, plan and results of a sweep file (see src/sweep/spec.ts).
 *
 *   sweep run sweeps/cartpole.yaml [--concurrency N] [--retries N] [--force] [--yes] [--logdir runs]
 *   sweep run sweeps/cartpole.yaml --executor slurm [--partition P] [--time HH:MM:SS] [--detach]   # one Slurm job array
 *   sweep trial sweeps/cartpole.yaml --index 3   # one trial, as a Slurm array task (or any scheduler) runs it
 *   sweep status runs/cartpole-lr            # where a sweep stands (trials, and its Slurm job)
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
import * as readline from 'node:readline';
import yargs from 'yargs';
import { ConfigError, suggestKey } from '../train/config.js';
import { checkTrialCount, DEFAULT_TRIAL_LIMIT, expandSweep, sweptParameters, type Trial } from '../sweep/expand.js';
import { type BatchExecutor, LocalExecutor, type TrialExecutor } from '../sweep/executor.js';
import { SweepLockedError } from '../sweep/lock.js';
import { type Calibration, calibrate, describeEstimate, estimateSweep, etaModel } from '../sweep/calibrate.js';
import { createView } from '../sweep/progress-view.js';
import { collectResults, formatResults, writeResults } from '../sweep/results.js';
import { writeReport } from '../sweep/report.js';
import { type CancelPrompt, runSweep, SweepChangedError } from '../sweep/scheduler.js';
import { checkSlurmTime, latestSlurmJob, shellQuote, SlurmExecutor } from '../sweep/slurm.js';
import { loadSweepSpec, type SweepSpec } from '../sweep/spec.js';
import { readStatus } from '../sweep/status.js';
import { formatSweepStatus } from '../sweep/sweep-status.js';
import { commandTrial } from './sweep-trial.js';

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

/** How to invoke this command again: `npx sweep` through bin/sweep.js, else node with tsx. */
function commandPrefix(): string {
  const script = process.argv[1] ?? '';
  if (/(^|[\\/])sweep(\.js)?$/.test(script) && !script.endsWith(path.join('cli', 'sweep.js'))) return 'npx sweep';
  const relative = path.relative(process.cwd(), script) || script;
  return `node --import tsx ${shellQuote(relative)}`;
}

interface SlurmArgs {
  partition?: string;
  time?: string;
  cpusPerTrial?: number;
  sbatchArg: string[];
  detach: boolean;
  /** undefined: ask on a terminal, else leave the job running. */
  cancelOnInterrupt?: boolean;
  pollSeconds: number;
}

interface RunArgs extends SlurmArgs {
  file: string;
  logdir: string;
  executor: 'local' | 'slurm';
  concurrency?: number;
  retries: number;
  force: boolean;
  yes: boolean;
  progressEvery: number;
}

function resumeCommand(args: RunArgs): string {
  const parts = [commandPrefix(), 'run', shellQuote(args.file)];
  if (args.logdir !== 'runs') parts.push('--logdir', shellQuote(args.logdir));
  if (args.executor !== 'local') parts.push('--executor', args.executor);
  if (args.partition !== undefined) parts.push('--partition', shellQuote(args.partition));
  if (args.time !== undefined) parts.push('--time', shellQuote(args.time));
  if (args.cpusPerTrial !== undefined) parts.push('--cpus-per-trial', String(args.cpusPerTrial));
  for (const arg of args.sbatchArg) parts.push(shellQuote(`--sbatch-arg=${arg}`));
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

/** The Slurm options make sense with --executor slurm only; checked before anything is read or submitted. */
function checkExecutorOptions(args: RunArgs): void {
  if (args.executor === 'slurm') {
    if (args.time !== undefined) checkSlurmTime(args.time);
    checkCount('cpus-per-trial', args.cpusPerTrial, 1);
    if (!(args.pollSeconds > 0)) throw new ConfigError(`--poll-seconds must be a number > 0, got ${args.pollSeconds}`);
    return;
  }
  const given: Array<[string, boolean]> = [
    ['partition', args.partition !== undefined], ['time', args.time !== undefined], ['cpus-per-trial', args.cpusPerTrial !== undefined],
    ['sbatch-arg', args.sbatchArg.length > 0], ['detach', args.detach], ['cancel-on-interrupt', args.cancelOnInterrupt !== undefined],
  ];
  const flag = given.find(([, present]) => present)?.[0];
  if (flag) throw new ConfigError(`--${flag} applies to Slurm only: add --executor slurm, or drop --${flag}`);
}

function createExecutor(args: RunArgs): TrialExecutor | BatchExecutor {
  if (args.executor === 'local') return new LocalExecutor();
  return new SlurmExecutor({
    sbatchArgs: args.sbatchArg,
    ...(args.partition !== undefined ? { partition: args.partition } : {}),
    ...(args.time !== undefined ? { time: args.time } : {}),
    ...(args.cpusPerTrial !== undefined ? { cpusPerTrial: args.cpusPerTrial } : {}),
  });
}

/** Asks a yes/no question on the terminal; a second Ctrl-C (the signal) answers no. */
function askOnTerminal(io: SweepIo): CancelPrompt {
  return (question, signal) => new Promise<boolean>((resolve) => {
    const input = readline.createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    const answer = (yes: boolean): void => {
      if (answered) return;
      answered = true;
      signal.removeEventListener('abort', onAbort);
      input.close();
      resolve(yes);
    };
    const onAbort = (): void => answer(false);
    signal.addEventListener('abort', onAbort);
    input.once('line', (line) => answer(/^\s*y(es)?\s*$/i.test(line)));
    input.once('close', () => answer(false));
    io.stdout.write(question);
  });
}

/** What the first Ctrl-C does to a Slurm job: --cancel-on-interrupt decides, else a terminal asks, else it goes on. */
function cancelChoice(args: RunArgs, io: SweepIo): boolean | CancelPrompt {
  if (args.cancelOnInterrupt !== undefined) return args.cancelOnInterrupt;
  return process.stdin.isTTY ? askOnTerminal(io) : false;
}

/** Running here while a Slurm job of the sweep is queued would run its trials twice. */
async function refuseWhileQueued(sweepDir: string): Promise<void> {
  const queue = await latestSlurmJob(sweepDir);
  // No submission, or no Slurm on this machine to ask (a copy of the folder): nothing to check.
  if (!queue || typeof queue.tasks === 'string') return;
  if (![...queue.tasks.values()].some((task) => task.active)) return;
  const id = queue.record.jobId;
  throw new SweepChangedError(`Slurm job ${id} of this sweep is still queued or running; follow it with: ${commandPrefix()} status ${shellQuote(sweepDir)}, `
    + `or cancel it with: scancel ${id} before running the sweep here`);
}

async function commandRun(args: RunArgs, io: SweepIo): Promise<number> {
  checkCount('concurrency', args.concurrency, 1);
  checkCount('retries', args.retries, 0);
  checkExecutorOptions(args);
  // First: a missing Slurm is said before anything is read or written.
  const executor = createExecutor(args);
  const spec = await loadSweepSpec(args.file);
  checkTrialCount(spec, { yes: args.yes });
  const sweepDir = path.join(args.logdir, spec.name);
  const trials = expandSweep(spec, { sweepDir });
  const slurm = args.executor === 'slurm';
  if (!slurm) await refuseWhileQueued(sweepDir);
  // A cluster's throttle is the array's %N; without one, as many as the cluster gives.
  const concurrency = args.concurrency ?? spec.concurrency ?? (slurm ? undefined : os.availableParallelism());
  // A cluster gives each trial a core of its own.
  const cores = slurm ? Number.POSITIVE_INFINITY : os.availableParallelism();
  const toRun = await trialsToRun(trials, sweepDir);
  // Every trial's shape: --force may rerun done ones.
  const calibration = await calibrate(trials.map((trial) => trial.config));
  const slots = concurrency ?? Math.max(1, toRun.length);
  io.out(estimateLines(toRun, trials.length - toRun.length, calibration, slots, cores).join('\n'));
  const view = createView(io.stdout, { plainIntervalSeconds: args.progressEvery, eta: etaModel(calibration, slots, cores) });
  const outcome = await runSweep({
    spec, trials, sweepDir, concurrency, retries: args.retries, force: args.force, view, executor,
    resumeCommand: resumeCommand(args),
    handleSignals: true,
    print: io.out,
    command: `${commandPrefix()} ${process.argv.slice(2).map(shellQuote).join(' ')}`,
    ...(slurm ? {
      detach: args.detach, cancelOnInterrupt: cancelChoice(args, io), queuePollMs: args.pollSeconds * 1000,
      statusCommand: `${commandPrefix()} status ${shellQuote(sweepDir)}`, resultsCommand: `${commandPrefix()} results ${shellQuote(sweepDir)}`,
    } : {}),
  });
  if (!args.detach) await writeReportAfterRun(sweepDir, io);
  return outcome.exitCode;
}

async function commandStatus(args: { dir: string }, io: SweepIo): Promise<number> {
  io.out(await formatSweepStatus(args.dir, await latestSlurmJob(args.dir)));
  return 0;
}

/** The report is a by-product of a run: failing to write it must not fail the sweep. */
async function writeReportAfterRun(sweepDir: string, io: SweepIo): Promise<void> {
  try {
    io.out(`Report: ${await writeReport(sweepDir)}`);
  } catch (error) {
    io.err(`warning: could not write the sweep report: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The trials a run would start: those not done in the sweep folder. */
async function trialsToRun(trials: Trial[], sweepDir: string): Promise<Trial[]> {
  if (!existsSync(sweepDir)) return trials;
  const states = await Promise.all(trials.map(async (trial) => (await readStatus(path.join(sweepDir, trial.name), () => {}))?.state));
  return trials.filter((_, i) => states[i] !== 'done');
}

/** How long the trials still to run will take (`calibration` covers their shapes), and how the estimate was made. */
function estimateLines(toRun: Trial[], done: number, calibration: Calibration, concurrency: number, cores: number): string[] {
  if (toRun.length === 0) return ['estimate: nothing to run, every trial is done'];
  const estimate = estimateSweep(toRun.map((trial) => trial.config), calibration, concurrency, cores);
  const [first, ...rest] = describeEstimate(calibration, estimate, toRun.length);
  return [`estimate: ${first}${done > 0 ? ` (${done} done)` : ''}`, ...rest];
}

/** The plan's text: a summary line and one row per trial. */
export async function formatPlan(spec: SweepSpec, trials: Trial[], options: { sweepDir: string; estimate: readonly string[] }): Promise<string> {
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
    `${totalSteps.toLocaleString('en-US')} steps in all`,
    ...options.estimate,
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
  const concurrency = args.concurrency ?? spec.concurrency ?? os.availableParallelism();
  const toRun = await trialsToRun(trials, sweepDir);
  const calibration = await calibrate(toRun.map((trial) => trial.config));
  const estimate = estimateLines(toRun, trials.length - toRun.length, calibration, concurrency, os.availableParallelism());
  io.out(await formatPlan(spec, trials, { sweepDir, estimate }));
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
      .option('executor', { choices: ['local', 'slurm'] as const, default: 'local' as const, description: 'Where trials run: child processes here, or one Slurm job array' })
      .option('partition', { type: 'string', group: 'Slurm:', description: 'sbatch --partition' })
      .option('time', { type: 'string', group: 'Slurm:', description: 'sbatch --time: each trial\'s time limit, e.g. 02:00:00' })
      .option('cpus-per-trial', { type: 'number', group: 'Slurm:', description: 'sbatch --cpus-per-task (default 1)' })
      .option('sbatch-arg', { type: 'string', array: true, requiresArg: true, default: [] as string[], group: 'Slurm:', description: 'More sbatch options, one each: --sbatch-arg=--mem=2G' })
      .option('detach', { type: 'boolean', default: false, group: 'Slurm:', description: 'Submit and return; see it later with sweep status <dir>' })
      .option('cancel-on-interrupt', { type: 'boolean', group: 'Slurm:', description: 'On Ctrl-C: cancel the job array (--no-cancel-on-interrupt: leave it running). Default: ask on a terminal, else leave it' })
      .option('poll-seconds', { type: 'number', default: 10, group: 'Slurm:', description: 'Seconds between squeue calls while following the job array' })
      .example('$0 run sweeps/mountaincar.yaml', 'the README\'s main sweep')
      .example('$0 run sweeps/smoke.yaml --concurrency 2 --retries 1', '')
      .example('$0 run sweeps/smoke.yaml --executor slurm --partition debug --time 00:10:00', 'one Slurm job array, followed here'),
    (args) => guard(() => commandRun({
      file: args.file, logdir: args.logdir, concurrency: args.concurrency, retries: args.retries, force: args.force, yes: args.yes,
      progressEvery: args['progress-every'], executor: args.executor, partition: args.partition, time: args.time,
      cpusPerTrial: args['cpus-per-trial'], sbatchArg: args['sbatch-arg'].map(String), detach: args.detach,
      cancelOnInterrupt: args['cancel-on-interrupt'], pollSeconds: args['poll-seconds'],
    }, io))())
    .command('trial <file>', 'Run one trial of a sweep file here, as sweep run would (what each Slurm array task runs)', (y) => y
      .positional('file', { type: 'string', demandOption: true, description: 'Sweep file (YAML)' })
      .option('index', { type: 'number', demandOption: true, description: 'The trial\'s index (0-based, as in sweep plan\'s # minus 1)' })
      .option('logdir', { type: 'string', default: 'runs', description: 'Folder of sweeps: the trial goes to <logdir>/<sweep name>/<trial>/' })
      .option('retries', { type: 'number', default: 0, description: 'Run it again up to N more times if it fails' })
      .option('force', { type: 'boolean', default: false, description: 'Rerun it if it is done with another configuration (its old run is moved aside)' })
      .example('$0 trial sweeps/smoke.yaml --index 0', ''),
    (args) => guard(() => commandTrial({ file: args.file, index: args.index, logdir: args.logdir, retries: args.retries, force: args.force }, io))())
    .command('status <dir>', 'Show where a sweep stands: each trial\'s state and progress, and its Slurm job', (y) => y
      .positional('dir', { type: 'string', demandOption: true, description: 'The sweep\'s folder, e.g. runs/smoke' }),
    (args) => guard(() => commandStatus({ dir: args.dir }, io))())
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
    .demandCommand(1, 'give a command: run, trial, status, plan, results or report (see --help)')
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
    const commands = ['run', 'trial', 'status', 'plan', 'results', 'report'];
    const text = first !== undefined && !first.startsWith('-') && !commands.includes(first)
      ? `unknown command "${first}"${suggestKey(first, commands)}; commands: ${commands.join(', ')}`
      : /^Not enough non-option arguments/.test(error.message) && first !== undefined
        ? `sweep ${first} needs ${['results', 'report', 'status'].includes(first) ? `a sweep folder, e.g. sweep ${first} runs/smoke` : `a sweep file, e.g. sweep ${first} sweeps/smoke.yaml`}`
        : error.message;
    io.err(`error: ${text}\n(see sweep --help)`);
    return 2;
  }
  return exitCode;
}
