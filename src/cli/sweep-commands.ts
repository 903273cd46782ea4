/**
 * The `sweep` command: run, plan and results of a sweep file (see src/sweep/spec.ts).
 *
 *   sweep run sweeps/cartpole.yaml [--concurrency N] [--retries N] [--force] [--yes] [--logdir runs]
 *   sweep run sweeps/cartpole.yaml --executor slurm [--partition P] [--time HH:MM:SS] [--detach]   # one Slurm job array
 *   sweep trial sweeps/cartpole.yaml --index 3   # one trial, as a Slurm array task (or any scheduler) runs it
 *   sweep trial sweeps/cartpole.yaml --index 3 --stop-at-step 1000   # one rung segment: paused at step 1000
 *   sweep status runs/cartpole-lr            # where a sweep stands (trials, and its Slurm job)
 *   sweep plan sweeps/cartpole.yaml          # the trial table, nothing runs
 *   sweep results runs/cartpole-lr           # results table, results.csv and results.json
 *   sweep report runs/cartpole-lr            # report.html: table, curves over seeds, best policy GIF
 *   sweep prune runs/cartpole-lr --dry-run   # what disk space it frees: unneeded checkpoints, leftovers
 *
 * Exit codes (as rlsweep-run's): 0 done, 1 a runtime failure (a trial failed, or another
 * error), 2 a usage or input error (the sweep file, the options, a folder in use), 75 paused at
 * --stop-at-step (sweep trial), 130 interrupted.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ConfigError, suggestKey } from '../train/config.js';
import { EnvError } from '../envs/errors.js';
import { type SweepIo, consoleIo } from './sweep-io.js';
import { inexactIntegerReason } from '../util/numbers.js';
import type { Argv, MiddlewareFunction } from 'yargs';
import { numberTextOption, objectMemberFlag, repeatedFlag, yargs } from '../util/yargs.js';
import { checkTrialCount, DEFAULT_TRIAL_LIMIT, expandSweep, sweepWarnings, sweptParameters, type Trial, trialsOf } from '../sweep/expand.js';
import { type BatchExecutor, LocalExecutor, type TrialExecutor } from '../sweep/executor.js';
import { refuseIfLocked, SweepLockedError } from '../sweep/lock.js';
import { type Calibration, calibrate, describeEstimate, estimateSweep, etaModel } from '../sweep/calibrate.js';
import { createView } from '../sweep/progress-view.js';
import { collectResults, formatResults, scoringOf, writeResults } from '../sweep/results.js';
import { writeReport } from '../sweep/report.js';
import { type CancelPrompt, type RunSweepOptions, runSweep } from '../sweep/scheduler.js';
import { DEFAULT_BATCH_CONCURRENCY, isAdaptive, runAdaptiveSweep, sweepScheduler } from '../sweep/adaptive-sweep.js';
import { schedulerBudget } from '../sweep/search/asha.js';
import { createSearcher } from '../sweep/search/searcher.js';
import { configurationBudget } from '../sweep/search/space.js';
import { checkSweepFolder } from '../sweep/sweep-files.js';
import { planTrials, readPreviousStatuses, SweepChangedError } from '../sweep/sweep-plan.js';
import { checkSlurmTime, latestSlurmJob, shellQuote, SlurmExecutor } from '../sweep/slurm.js';
import { loadSweepSpec, type SweepSpec } from '../sweep/spec.js';
import { isComplete, readStatus, requireRunsFolder, requireSweepFolder } from '../sweep/trial-status.js';
import { explainFsError, isFsError } from '../util/files.js';
import { formatSweepStatus } from '../sweep/status-report.js';
import { commandPrune } from './sweep-prune.js';
import { commandTrial } from './sweep-trial.js';
import { formatTable } from '../util/text-table.js';

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
  /** Seconds between squeue calls; undefined: DEFAULT_POLL_SECONDS. */
  pollSeconds?: number;
}

const DEFAULT_POLL_SECONDS = 10;

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

/** A numeric flag (parsed as text, see numberTextOption): its value, or a ConfigError that shows what was typed. */
function numberFlag(name: string, value: number | string | undefined, what: { min: number; integer?: boolean; above?: boolean }): number | undefined {
  if (value === undefined) return undefined;
  const fits = typeof value === 'number' && (what.integer ? Number.isSafeInteger(value) : Number.isFinite(value)) && (what.above ? value > what.min : value >= what.min);
  if (fits) return value;
  const expected = `${what.integer ? 'an integer' : 'a number'} ${what.above ? '>' : '>='} ${what.min}`;
  const inexact = typeof value === 'string' ? inexactIntegerReason(value) : undefined;
  throw new ConfigError(inexact ? `--${name} ${inexact}` : `--${name} must be ${expected}, got ${JSON.stringify(value)}`);
}
const countFlag = (name: string, value: number | string | undefined, min: number): number | undefined => numberFlag(name, value, { min, integer: true });

/** The Slurm options make sense with --executor slurm only; checked before anything is read or submitted. */
function checkExecutorOptions(args: RunArgs): void {
  if (args.executor === 'slurm') {
    if (args.time !== undefined) checkSlurmTime(args.time);
    return;
  }
  const given: Array<[string, boolean]> = [
    ['partition', args.partition !== undefined],
    ['time', args.time !== undefined],
    ['cpus-per-trial', args.cpusPerTrial !== undefined],
    ['sbatch-arg', args.sbatchArg.length > 0],
    ['detach', args.detach],
    ['cancel-on-interrupt', args.cancelOnInterrupt !== undefined],
    ['poll-seconds', args.pollSeconds !== undefined],
  ];
  const flag = given.find(([, present]) => present)?.[0];
  if (flag) throw new ConfigError(`--${flag} applies to Slurm only: add --executor slurm, or drop --${flag}`);
}

/** An empty --logdir would put the sweep in the current folder without a word. */
function checkLogdir(logdir: string): void {
  if (logdir.trim() === '') throw new ConfigError('--logdir must name a folder, e.g. --logdir runs, got ""');
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
  return (question, signal) =>
    new Promise<boolean>((resolve) => {
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
  throw new SweepChangedError(
    `Slurm job ${id} of this sweep is still queued or running; follow it with: ${commandPrefix()} status ${shellQuote(sweepDir)}, ` + `or cancel it with: scancel ${id} before running the sweep here`,
  );
}

async function commandRun(args: RunArgs, io: SweepIo): Promise<number> {
  checkLogdir(args.logdir);
  checkExecutorOptions(args);
  // First: a missing Slurm is said before anything is read or written.
  const executor = createExecutor(args);
  const spec = await loadSweepSpec(args.file);
  checkTrialCount(spec, { yes: args.yes });
  const sweepDir = path.join(args.logdir, spec.name);
  if (isAdaptive(spec)) return commandRunAdaptive(args, io, spec, sweepDir, executor);
  const trials = expandSweep(spec, { sweepDir });
  const slurm = args.executor === 'slurm';
  await checkSweepFolder(sweepDir, spec);
  if (!slurm) await refuseWhileQueued(sweepDir);
  // A cluster's throttle is the array's %N; without one, as many as the cluster gives.
  const concurrency = args.concurrency ?? spec.concurrency ?? (slurm ? undefined : os.availableParallelism());
  printWarnings(sweepWarnings(spec, trials, { concurrency: slurm ? undefined : concurrency, cpus: os.availableParallelism() }), io);
  // A cluster gives each trial a core of its own.
  const cores = slurm ? Number.POSITIVE_INFINITY : os.availableParallelism();
  // What runSweep would refuse (a live sweep's lock, running or changed trials) is refused before the
  // calibration's seconds are spent; runSweep checks again under the lock. Nothing is written here.
  await refuseIfLocked(sweepDir);
  const previous = await readPreviousStatuses(sweepDir, trials, () => {});
  const { toRun } = await planTrials(spec, sweepDir, trials, previous, { force: args.force ?? false, batch: slurm });
  const calibration = await calibrate(toRun.map((trial) => trial.config));
  const slots = concurrency ?? Math.max(1, toRun.length);
  io.out(estimateLines(toRun, trials.length - toRun.length, calibration, slots, cores).join('\n'));
  const view = createView(io.stdout, { plainIntervalSeconds: args.progressEvery, eta: etaModel(calibration, slots, cores) });
  const outcome = await runSweep({ spec, trials, sweepDir, concurrency, view, executor, ...sharedRunOptions(args, io, sweepDir) });
  if (!args.detach) await writeReportAfterRun(sweepDir, io);
  return outcome.exitCode;
}

/** The options of `sweep run` that every sweep shares, for runSweep and runAdaptiveSweep. */
function sharedRunOptions(args: RunArgs, io: SweepIo, sweepDir: string): Omit<RunSweepOptions, 'spec' | 'trials' | 'sweepDir' | 'concurrency' | 'view' | 'executor'> {
  const slurm = args.executor === 'slurm';
  return {
    retries: args.retries,
    force: args.force,
    resumeCommand: resumeCommand(args),
    handleSignals: true,
    print: io.out,
    command: `${commandPrefix()} ${process.argv.slice(2).map(shellQuote).join(' ')}`,
    ...(slurm
      ? {
          detach: args.detach,
          cancelOnInterrupt: cancelChoice(args, io),
          queuePollMs: (args.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000,
          statusCommand: `${commandPrefix()} status ${shellQuote(sweepDir)}`,
          resultsCommand: `${commandPrefix()} results ${shellQuote(sweepDir)}`,
        }
      : {}),
  };
}

/**
 * `sweep run` of an adaptive sweep (bayes, or early_terminate): the controller runs here and
 * makes the trials as the search goes; on Slurm it submits each segment as a job and follows it.
 */
async function commandRunAdaptive(args: RunArgs, io: SweepIo, spec: SweepSpec, sweepDir: string, executor: TrialExecutor | BatchExecutor): Promise<number> {
  const slurm = args.executor === 'slurm';
  if (args.detach)
    throw new ConfigError(
      `--detach does not apply to an adaptive sweep (${spec.file}: ${spec.method}${spec.earlyTerminate ? ` with early_terminate ${spec.earlyTerminate.type}` : ''}): its controller decides on every rung's results, so it must keep running; drop --detach (run it under nohup or tmux to leave it)`,
    );
  await checkSweepFolder(sweepDir, spec);
  if (!slurm) await refuseWhileQueued(sweepDir);
  const concurrency = args.concurrency ?? spec.concurrency ?? (slurm ? DEFAULT_BATCH_CONCURRENCY : os.availableParallelism());
  const first = createSearcher(spec).suggest(0, []);
  const sample = first === null ? [] : trialsOf(spec, 0, first, { sweepDir });
  printWarnings(sweepWarnings(spec, sample, { concurrency: slurm ? undefined : concurrency, cpus: os.availableParallelism() }), io);
  io.out(budgetLines(spec).join('\n'));
  const view = createView(io.stdout, { plainIntervalSeconds: args.progressEvery });
  const outcome = await runAdaptiveSweep({ spec, trials: [], sweepDir, concurrency, view, executor, ...sharedRunOptions(args, io, sweepDir) });
  await writeReportAfterRun(sweepDir, io);
  return outcome.exitCode;
}

/** Warnings go to stderr, one line each, before anything runs. */
function printWarnings(warnings: string[], io: SweepIo): void {
  for (const warning of warnings) io.err(`warning: ${warning}`);
}

async function commandStatus(args: { dir: string }, io: SweepIo): Promise<number> {
  await requireSweepFolder(args.dir, 'status');
  const queue = await latestSlurmJob(args.dir);
  const logdir = path.dirname(args.dir);
  const resumeCommand = (file: string): string =>
    [commandPrefix(), 'run', shellQuote(file), ...(logdir === 'runs' ? [] : ['--logdir', shellQuote(logdir)]), ...(queue ? ['--executor', 'slurm'] : [])].join(' ');
  io.out(await formatSweepStatus(args.dir, queue, { resumeCommand }));
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

/** The trials a run would start: those not complete (done, or stopped at a rung) in the sweep folder. */
async function trialsToRun(trials: Trial[], sweepDir: string): Promise<Trial[]> {
  if (!existsSync(sweepDir)) return trials;
  const statuses = await Promise.all(trials.map((trial) => readStatus(path.join(sweepDir, trial.name), () => {})));
  return trials.filter((_, i) => !isComplete(statuses[i]));
}

/** How long the trials still to run will take (`calibration` covers their shapes), and how the estimate was made. */
/** "; score: steps until eval/return_mean >= 475" when trials are scored by more than their metric's final value. */
function scoreLine(spec: SweepSpec, trials: readonly Trial[]): string {
  if (spec.metric.summary === 'final') return '';
  return `; score: ${scoringOf(spec.metric, new Set(trials.map((trial) => trial.config.env))).description}`;
}

function estimateLines(toRun: Trial[], done: number, calibration: Calibration, concurrency: number, cores: number): string[] {
  if (toRun.length === 0) return ['estimate: nothing to run, every trial is done'];
  const estimate = estimateSweep(
    toRun.map((trial) => trial.config),
    calibration,
    concurrency,
    cores,
  );
  const [first, ...rest] = describeEstimate(calibration, estimate, toRun.length);
  return [`estimate: ${first}${done > 0 ? ` (${done} done)` : ''}`, ...rest];
}

/**
 * The budget of an adaptive sweep: how many configurations, the rungs of each bracket with how
 * many configurations reach them (expected, and at most), and the environment steps that costs.
 */
export function budgetLines(spec: SweepSpec): string[] {
  const configurations = configurationBudget(spec);
  const settings = sweepScheduler(spec);
  const seeds = spec.seeds.length;
  const steps = (n: number): string => (n * seeds).toLocaleString('en-US');
  const brackets = schedulerBudget(settings, configurations);
  const fifoSteps = configurations * settings.maxSteps;
  const expected = brackets.reduce((sum, bracket) => sum + bracket.expectedSteps, 0);
  const most = brackets.reduce((sum, bracket) => sum + bracket.maxSteps, 0);
  const lines = [
    `budget: ${spec.method} search of ${configurations} configuration${configurations === 1 ? '' : 's'} x ${seeds} seed${seeds === 1 ? '' : 's'}, ` +
      (settings.type === 'fifo' ? 'each run to the end' : `${settings.type} early stopping (eta ${settings.eta}, ${brackets.length} bracket${brackets.length === 1 ? '' : 's'})`),
  ];
  if (settings.type !== 'fifo') {
    for (const bracket of brackets) {
      const rungs = bracket.rungs.map((rung) => `step ${rung.step.toLocaleString('en-US')}: ${rung.expected}${rung.atMost === rung.expected ? '' : ` (at most ${rung.atMost})`}`);
      lines.push(`  ${brackets.length > 1 ? `bracket ${bracket.bracket}: ` : ''}configurations reaching ${rungs.join(', ')}`);
    }
  }
  lines.push(
    `  environment steps: ${steps(expected)} expected, at most ${steps(most)}` +
      (settings.type === 'fifo' ? '' : ` (every configuration to the end: ${steps(fifoSteps)}, ${Math.round((100 * expected) / Math.max(1, fifoSteps))}% of it expected)`),
  );
  return lines;
}

/** The plan of an adaptive sweep: its configurations come from results, so the search space and the budget instead of a trial table. */
function adaptivePlan(spec: SweepSpec, sweepDir: string): string[] {
  const swept = sweptParameters(spec);
  const domain = (parameter: (typeof swept)[number]): string =>
    parameter.kind === 'range'
      ? `${parameter.distribution} ${parameter.min}..${parameter.max}${parameter.q === undefined ? '' : ` step ${parameter.q}`}`
      : parameter.kind === 'values'
        ? parameter.values.map((value) => JSON.stringify(value)).join(' | ')
        : JSON.stringify(parameter.value);
  return [
    `Sweep ${spec.name} (${spec.method}${spec.earlyTerminate ? ` + ${spec.earlyTerminate.type}` : ''}) from ${spec.file} -> ${sweepDir}/; the configurations are chosen as results come in (journal: ${sweepDir}/journal.jsonl)`,
    `metric: ${spec.metric.name} (${spec.metric.goal}); seeds: ${spec.seeds.join(', ')}; sweep_seed ${spec.sweepSeed}`,
    ...swept.map((parameter) => `  ${parameter.key}: ${domain(parameter)}`),
    ...budgetLines(spec),
  ];
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
    String(trial.index + 1),
    trial.name,
    ...swept.map((key) => String(trial.hparams[key])),
    String(trial.seed),
    String(trial.config.steps),
    ...(states.size > 0 ? [states.get(trial.name)!] : []),
  ]);
  const configurations = new Set(trials.map((trial) => trial.configIndex)).size;
  const totalSteps = trials.reduce((sum, trial) => sum + trial.config.steps, 0);
  const fixed = spec.parameters.filter((parameter) => !swept.includes(parameter.key)).map((parameter) => `${parameter.key}=${JSON.stringify(trials[0]?.config[parameter.key])}`);
  const lines = [
    `Sweep ${spec.name} (${spec.method}) from ${spec.file}: ${configurations} configurations x ${spec.seeds.length} seeds = ${trials.length} trials -> ${options.sweepDir}/`,
    `metric: ${spec.metric.name} (${spec.metric.goal})${scoreLine(spec, trials)}${swept.length > 0 ? `; swept: ${swept.join(', ')}` : ''}`,
    ...(fixed.length > 0 ? [`fixed: ${fixed.join(', ')}`] : []),
    `${totalSteps.toLocaleString('en-US')} steps in all`,
    ...options.estimate,
    '',
    ...formatTable([header, ...rows]),
  ];
  if (trials.length > DEFAULT_TRIAL_LIMIT) lines.push('', `More than ${DEFAULT_TRIAL_LIMIT} trials: sweep run will ask for --yes.`);
  return lines.join('\n');
}

async function commandPlan(args: { file: string; logdir: string; concurrency?: number }, io: SweepIo): Promise<number> {
  checkLogdir(args.logdir);
  const spec = await loadSweepSpec(args.file);
  checkTrialCount(spec, { yes: true });
  const sweepDir = path.join(args.logdir, spec.name);
  if (isAdaptive(spec)) {
    io.out(adaptivePlan(spec, sweepDir).join('\n'));
    return 0;
  }
  const trials = expandSweep(spec, { sweepDir });
  const concurrency = args.concurrency ?? spec.concurrency ?? os.availableParallelism();
  printWarnings(sweepWarnings(spec, trials, { concurrency, cpus: os.availableParallelism() }), io);
  const toRun = await trialsToRun(trials, sweepDir);
  const calibration = await calibrate(toRun.map((trial) => trial.config));
  const estimate = estimateLines(toRun, trials.length - toRun.length, calibration, concurrency, os.availableParallelism());
  io.out(await formatPlan(spec, trials, { sweepDir, estimate }));
  return 0;
}

async function commandResults(args: { dir: string }, io: SweepIo): Promise<number> {
  await requireSweepFolder(args.dir, 'results');
  const results = await collectResults(args.dir);
  const files = await writeResults(args.dir, results);
  io.out(formatResults(results));
  io.out(`\nResults: ${files.csv}, ${files.json}`);
  return 0;
}

async function commandReport(args: { dir: string }, io: SweepIo): Promise<number> {
  await requireRunsFolder(args.dir, 'report');
  io.out(`Report: ${await writeReport(args.dir)}`);
  return 0;
}

class UsageError extends Error {}

/** The --help group of sweep run's general options, listed before the Slurm ones. */
const RUN_GROUP = 'Options:';

/**
 * yargs' "Unknown arguments: a, b" with a did-you-mean for each flag (as rlsweep-run gives), and
 * a stray word named as such; undefined for any other message.
 */
function unknownArgumentsMessage(message: string, known: readonly string[], argv: readonly string[]): string | undefined {
  const match = /^Unknown arguments?: (.+)$/.exec(message);
  if (!match) return undefined;
  // yargs adds a camelCase alias of every kebab-case option; suggest the kebab-case ones.
  const flags = known.filter((key) => !/[A-Z]/.test(key));
  const typedFlags = argv.filter((arg) => /^-/.test(arg)).map((arg) => arg.replace(/^-+(no-)?/, '').split('=')[0]!);
  const typed = (name: string): boolean => typedFlags.includes(name);
  // yargs also lists the camelCase alias it made of a flag typed (--sbatch-arg- gives sbatchArg, --concurrency- concurrency): not a stray word.
  const camelCase = (flag: string): string => flag.replace(/-+$/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const aliasOfTyped = (name: string): boolean => !typed(name) && typedFlags.some((flag) => flag !== name && camelCase(flag) === name);
  return match[1]!
    .split(', ')
    .filter((name) => !aliasOfTyped(name))
    .map((name) =>
      typed(name)
        ? `unknown flag ${name.length === 1 ? '-' : '--'}${name}${suggestKey(name, flags).replace(/"([\w-]+)"/, (_, key: string) => `--${key}`)}`
        : `unexpected argument ${JSON.stringify(name)}`,
    )
    .join('; ');
}

/**
 * Flags typed so that yargs' camel-casing folds them onto an option (--poll-seconds-, --poll--seconds,
 * --poll-Seconds become pollSeconds): strict mode lets them through, but the command reads the
 * option's kebab-case key, so the value would be dropped without a word.
 */
function foldedFlags(argv: readonly string[], known: readonly string[]): string[] {
  const end = argv.indexOf('--');
  const names = (end < 0 ? argv : argv.slice(0, end)).flatMap((arg) => /^--(?:no-)?([^=]+)/.exec(arg)?.[1] ?? []);
  const fold = (name: string): string => name.replace(/-+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/-+$/, '');
  // Each option is accepted as typed (poll-seconds) and as its camelCase alias (pollSeconds).
  const accepted = new Set(known.flatMap((key) => [key, fold(key)]));
  return names.filter((name) => !accepted.has(name) && accepted.has(fold(name)));
}

/** Runs the sweep CLI; returns the exit code. */
export async function sweepMain(argv: string[], io: SweepIo = consoleIo): Promise<number> {
  let exitCode = 0;
  const guard = (work: () => Promise<number>) => async (): Promise<void> => {
    try {
      exitCode = await work();
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SweepChangedError || error instanceof SweepLockedError || (error instanceof EnvError && error.input)) {
        io.err(`error: ${error.message}`);
        exitCode = 2;
      } else {
        // A file-system error nothing foresaw still says what was expected where, and how to fix it.
        io.err(`error: ${isFsError(error) ? await explainFsError(error) : error instanceof Error ? error.message : String(error)}`);
        exitCode = 1;
      }
    }
  };
  const memberFlag = objectMemberFlag(argv);
  if (memberFlag) {
    io.err(`error: unknown flag ${memberFlag}\n(see sweep --help)`);
    return 2;
  }
  const repeated = repeatedFlag(argv, ['sbatch-arg']);
  if (repeated) {
    io.err(`error: ${repeated} is given more than once; give it once\n(see sweep --help)`);
    return 2;
  }
  let commandFlags: string[] = [];
  const parser = yargs(argv)
    .scriptName('sweep')
    .usage('$0 <command>\n\nHyperparameter sweeps of rlsweep runs: every trial is a run (rlsweep-run) with its own folder, logs and status.')
    .command(
      'run <file>',
      'Run the trials of a sweep file (skips done trials; reruns the rest)',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, description: 'Sweep file (YAML), e.g. sweeps/cartpole.yaml' })
          // The general options are grouped before the Slurm ones, so --help lists them first.
          .option('logdir', { type: 'string', default: 'runs', group: RUN_GROUP, description: 'Folder of sweeps: trials go to <logdir>/<sweep name>/<trial>/' })
          .option('concurrency', { ...numberTextOption(), group: RUN_GROUP, description: "Trials at once (default: the file's concurrency, else the number of CPUs)" })
          .option('retries', { ...numberTextOption(), default: 0, group: RUN_GROUP, description: 'Run a failed trial again up to N more times' })
          .option('force', { type: 'boolean', default: false, group: RUN_GROUP, description: 'Rerun done trials whose configuration the file changed (their old runs are moved aside)' })
          .option('yes', { type: 'boolean', default: false, group: RUN_GROUP, description: `Run a sweep of more than ${DEFAULT_TRIAL_LIMIT} trials` })
          .option('progress-every', { ...numberTextOption(), default: 30, group: RUN_GROUP, description: 'Seconds between status lines when the output is not a terminal (0 = only events)' })
          .option('executor', { choices: ['local', 'slurm'] as const, default: 'local' as const, group: RUN_GROUP, description: 'Where trials run: child processes here, or one Slurm job array' })
          .option('partition', { type: 'string', group: 'Slurm:', description: 'sbatch --partition' })
          .option('time', { type: 'string', group: 'Slurm:', description: "sbatch --time: each trial's time limit, e.g. 02:00:00" })
          .option('cpus-per-trial', { ...numberTextOption(), group: 'Slurm:', description: 'sbatch --cpus-per-task (default 1)' })
          .option('sbatch-arg', { type: 'string', array: true, requiresArg: true, default: [] as string[], group: 'Slurm:', description: 'More sbatch options, one each: --sbatch-arg=--mem=2G' })
          .option('detach', { type: 'boolean', default: false, group: 'Slurm:', description: 'Submit and return; see it later with sweep status <dir>' })
          .option('cancel-on-interrupt', {
            type: 'boolean',
            group: 'Slurm:',
            description: 'On Ctrl-C: cancel the job array (--no-cancel-on-interrupt: leave it running). Default: ask on a terminal, else leave it',
          })
          .option('poll-seconds', {
            ...numberTextOption(),
            defaultDescription: String(DEFAULT_POLL_SECONDS),
            group: 'Slurm:',
            description: 'Seconds between squeue calls while following the job array',
          })
          .example('$0 run sweeps/mountaincar.yaml', "the README's main sweep")
          .example('$0 run sweeps/smoke.yaml --concurrency 2 --retries 1', '')
          .example('$0 run sweeps/smoke.yaml --executor slurm --partition debug --time 00:10:00', 'one Slurm job array, followed here'),
      (args) =>
        guard(() =>
          commandRun(
            {
              file: args.file,
              logdir: args.logdir,
              concurrency: countFlag('concurrency', args.concurrency, 1),
              retries: countFlag('retries', args.retries, 0)!,
              force: args.force,
              yes: args.yes,
              progressEvery: numberFlag('progress-every', args['progress-every'], { min: 0 })!,
              executor: args.executor,
              partition: args.partition,
              time: args.time,
              cpusPerTrial: countFlag('cpus-per-trial', args['cpus-per-trial'], 1),
              sbatchArg: args['sbatch-arg'].map(String),
              detach: args.detach,
              cancelOnInterrupt: args['cancel-on-interrupt'],
              pollSeconds: numberFlag('poll-seconds', args['poll-seconds'], { min: 0, above: true }),
            },
            io,
          ),
        )(),
    )
    .command(
      'trial <file>',
      'Run one trial of a sweep file here, as sweep run would (what each Slurm array task runs)',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, description: 'Sweep file (YAML)' })
          .option('index', { ...numberTextOption(), demandOption: true, description: "The trial's index (0-based, as in sweep plan's # minus 1)" })
          .option('logdir', { type: 'string', default: 'runs', description: 'Folder of sweeps: the trial goes to <logdir>/<sweep name>/<trial>/' })
          .option('retries', { ...numberTextOption(), default: 0, description: 'Run it again up to N more times if it fails' })
          .option('force', { type: 'boolean', default: false, description: 'Rerun it if it is done with another configuration (its old run is moved aside)' })
          .option('stop-at-step', {
            ...numberTextOption(),
            description: 'Run one rung segment: pause the trial at this environment step (a checkpoint there, exit code 75); the next sweep trial resumes it from there',
          })
          .example('$0 trial sweeps/smoke.yaml --index 0', '')
          .example('$0 trial sweeps/smoke.yaml --index 0 --stop-at-step 1000', 'up to step 1000, then paused'),
      (args) =>
        guard(() =>
          commandTrial(
            {
              // index is demanded, so countFlag returns a number.
              file: args.file,
              index: countFlag('index', args.index, 0)!,
              logdir: args.logdir,
              retries: countFlag('retries', args.retries, 0)!,
              force: args.force,
              ...(args['stop-at-step'] === undefined ? {} : { stopAtStep: countFlag('stop-at-step', args['stop-at-step'], 1)! }),
            },
            io,
          ),
        )(),
    )
    .command(
      'status <dir>',
      "Show where a sweep stands: each trial's state and progress, and its Slurm job",
      (y) => y.positional('dir', { type: 'string', demandOption: true, description: "The sweep's folder, e.g. runs/smoke" }),
      (args) => guard(() => commandStatus({ dir: args.dir }, io))(),
    )
    .command(
      'plan <file>',
      'Print the trials of a sweep file without running anything',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, description: 'Sweep file (YAML)' })
          .option('logdir', { type: 'string', default: 'runs', description: 'Folder of sweeps (to show the state of trials already run)' })
          .option('concurrency', { ...numberTextOption(), description: 'Trials at once, for the time estimate' }),
      (args) => guard(() => commandPlan({ file: args.file, logdir: args.logdir, concurrency: countFlag('concurrency', args.concurrency, 1) }, io))(),
    )
    .command(
      'results <dir>',
      'Print and write (results.csv, results.json) the results of a sweep folder',
      (y) => y.positional('dir', { type: 'string', demandOption: true, description: "The sweep's folder, e.g. runs/cartpole-lr" }),
      (args) => guard(() => commandResults({ dir: args.dir }, io))(),
    )
    .command(
      'report <dir>',
      "Write <dir>/report.html: results table, learning curves over seeds, the best policy's GIF",
      (y) => y.positional('dir', { type: 'string', demandOption: true, description: "The sweep's folder (or any folder of runs), e.g. runs/smoke" }),
      (args) => guard(() => commandReport({ dir: args.dir }, io))(),
    )
    .command(
      'prune <dir>',
      'Free disk space in a sweep folder: checkpoints its done trials no longer need (see keepCheckpoints), leftovers of cut-short writes; never a running trial',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, description: "The sweep's folder, e.g. runs/smoke" })
          .option('dry-run', { type: 'boolean', default: false, description: 'List what would go and how many MB; remove nothing' })
          .option('aside', { type: 'boolean', default: false, description: 'Also remove the earlier runs that reruns moved aside (previous-* folders)' })
          .option('keep-checkpoints', { choices: ['last', 'all', 'none'] as const, description: 'What each done trial keeps (default: its own keepCheckpoints, else last)' }),
      (args) => guard(() => commandPrune({ dir: args.dir, dryRun: args['dry-run'], aside: args.aside, keepCheckpoints: args['keep-checkpoints'] }, io))(),
    )
    .demandCommand(1, 'give a command: run, trial, status, plan, results, report or prune (see --help)')
    // Remembers the options of the command being parsed, for the did-you-mean of an unknown flag.
    // yargs passes the command's instance as a second argument, and has getOptions(); its typings omit both.
    .middleware(
      ((_: unknown, command: Argv & { getOptions(): { key: Record<string, unknown> } }) => {
        commandFlags = Object.keys(command.getOptions().key);
        const folded = foldedFlags(argv, commandFlags);
        if (folded.length > 0) throw new UsageError(`Unknown argument${folded.length > 1 ? 's' : ''}: ${folded.join(', ')}`);
      }) as MiddlewareFunction,
      true,
    )
    .strict()
    .help()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // Throwing stops yargs here; returning would let it run the command anyway. yargs' own YError
      // ("Not enough arguments following: sbatch-arg") is a usage error too, not a crash.
      throw error && error.name !== 'YError' ? error : new UsageError(message ?? error?.message);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const first = argv[0];
    const commands = ['run', 'trial', 'status', 'plan', 'results', 'report', 'prune'];
    const text =
      first !== undefined && !first.startsWith('-') && !commands.includes(first)
        ? `unknown command "${first}"${suggestKey(first, commands)}; commands: ${commands.join(', ')}`
        : /^Not enough non-option arguments/.test(error.message) && first !== undefined
          ? `sweep ${first} needs ${['results', 'report', 'status', 'prune'].includes(first) ? `a sweep folder, e.g. sweep ${first} runs/smoke` : `a sweep file, e.g. sweep ${first} sweeps/smoke.yaml`}`
          : (unknownArgumentsMessage(error.message, commandFlags, argv) ?? error.message);
    io.err(`error: ${text}\n(see sweep --help)`);
    return 2;
  }
  return exitCode;
}
