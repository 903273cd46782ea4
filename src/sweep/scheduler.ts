/**
 * Runs a sweep's trials. Through a TrialExecutor (local child processes): at most
 * `concurrency` at once (p-limit), each trial run by runTrial (src/sweep/trial.ts:
 * retries, resume, status.json), Ctrl-C forwarded to the trials. Through a
 * BatchExecutor (a Slurm job array): every trial submitted at once, each task running
 * the same runTrial (`sweep trial --index i`), followed through the queue and the
 * status files. Either way: done trials skipped on a rerun, results written at the end.
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { ConfigError } from '../train/config.js';
import { type Warn, describeFsError, ensureDir } from '../util/files.js';
import { type FolderContents, describeContents, folderContents } from '../util/run-folders.js';
import { SummaryWriter, listEventFiles, type MetricInfo } from '../tensorboard/index.js';
import { experimentHParams, sweptParameters, type Trial } from './expand.js';
import { type BatchExecutor, type BatchSubmission, type RunningTrial, type TrialExecutor, isBatchExecutor } from './executor.js';
import { BatchFollower } from './follow.js';
import { LOCK_FILE, acquireLock } from './lock.js';
import { trialLiveness } from './liveness.js';
import type { SweepView } from './progress-view.js';
import { collectResults, formatResults, writeResults, type SweepResults } from './results.js';
import type { SweepSpec } from './spec.js';
import { type SweepManifest, type TrialStatus, STDERR_LOG, isComplete, pendingStatus, readManifest, readStatus, readTrialConfig, writeManifest, writeStatus } from './trial-status.js';
import { type TrialOutcomes, configDifferences, emptyTrialOutcomes, runTrial, trialControl } from './trial.js';
import { type StopHandlers, StopRequests } from '../util/signals.js';

/** Asks whether to cancel a batch submission after a Ctrl-C; aborted by a second Ctrl-C. */
export type CancelPrompt = (question: string, signal: AbortSignal) => Promise<boolean>;

export interface RunSweepOptions {
  spec: SweepSpec;
  trials: Trial[];
  /** <logdir>/<sweep name>: the trials' logdir. */
  sweepDir: string;
  executor: TrialExecutor | BatchExecutor;
  /** Trials at once; for a batch executor undefined means as many as the cluster gives. */
  concurrency: number | undefined;
  /** Extra attempts for a failed trial. Default 0. */
  retries?: number;
  /** Rerun done trials whose configuration changed instead of refusing. */
  force?: boolean;
  view: SweepView;
  /** Printed after an interruption: the command that resumes the sweep. */
  resumeCommand: string;
  /** Stop on SIGINT/SIGTERM of this process (the CLI). Default false. */
  handleSignals?: boolean;
  /** Aborting it acts as a Ctrl-C. */
  stopSignal?: AbortSignal;
  /** Final report (results table, failures, resume command). */
  print: (text: string) => void;
  /** Recorded in the lock file. */
  command?: string;
  /** Batch executors: return once the trials are submitted. */
  detach?: boolean;
  /** Batch executors, on the first Ctrl-C: cancel the submission (true), leave it running (false, the default), or ask. */
  cancelOnInterrupt?: boolean | CancelPrompt;
  /** Batch executors: how often the queue is asked (default 10 s) and the status files are read (default 1 s). */
  queuePollMs?: number;
  statusPollMs?: number;
  /** Batch executors: how long a task may be gone from the queue before its trial must show an end. Default 5 s. */
  orphanGraceMs?: number;
  /** Batch executors: the commands that show the progress and the results of a sweep left running. */
  statusCommand?: string;
  resultsCommand?: string;
}

export interface SweepOutcome {
  /** 0 all done (or submitted, with detach), 1 some trial failed or was stopped from outside, 130 interrupted. */
  exitCode: number;
  /** Trials complete before this run (done, or stopped at a rung): not run again. */
  skipped: string[];
  done: string[];
  failed: string[];
  interrupted: string[];
  /** Trials left waiting at a rung (paused; a later run resumes them). */
  paused: string[];
  notStarted: string[];
  /** Batch executors: trials still queued or running when this process stopped following (or detached). */
  leftRunning: string[];
  /** Batch executors: the submission's job id. */
  submitted?: string;
  results: SweepResults;
}

/** A finished trial's configuration differs from what the file now gives it (or its trials still run elsewhere). */
export class SweepChangedError extends Error {
  override name = 'SweepChangedError';
}

/** Metrics declared in the hparams experiment. */
export const EXPERIMENT_METRICS: MetricInfo[] = [
  { tag: 'eval/return_mean', displayName: 'eval return (mean)', datasetType: 'validation' },
  { tag: 'eval/return_std', displayName: 'eval return (std)', datasetType: 'validation' },
  { tag: 'eval/avg_max_q', displayName: 'eval avg max Q', datasetType: 'validation' },
  { tag: 'train/episode_return', displayName: 'train episode return', datasetType: 'training' },
];

/** The end of the names of the event files a sweep writes at its root (its hparams experiment). */
export const SWEEP_EVENT_FILE_SUFFIX = '.sweep';

/** Replaces the sweep root's hparams experiment summary; deletes no event file but the sweep's own earlier ones. */
export function writeExperimentSummary(sweepDir: string, spec: SweepSpec): void {
  // One experiment summary (the current one) is enough.
  for (const file of listEventFiles(sweepDir)) if (file.endsWith(SWEEP_EVENT_FILE_SUFFIX)) rmSync(file, { force: true });
  const metrics = [...EXPERIMENT_METRICS];
  if (!metrics.some((metric) => metric.tag === spec.metric.name)) metrics.push({ tag: spec.metric.name });
  const writer = new SummaryWriter(sweepDir, { flushSeconds: 0, filenameSuffix: SWEEP_EVENT_FILE_SUFFIX });
  writer.hparamsExperiment(experimentHParams(spec), metrics, { name: spec.name, description: spec.description ?? `rlsweep sweep ${spec.name} (${spec.file})` });
  writer.close();
}

/** sweep.json of the trials. */
export function sweepManifest(spec: SweepSpec, trials: Trial[]): SweepManifest {
  return {
    name: spec.name,
    file: spec.file,
    method: spec.method,
    metric: spec.metric,
    seeds: spec.seeds,
    swept: sweptParameters(spec).map((parameter) => parameter.key),
    updatedAt: new Date().toISOString(),
    trials: trials.map((trial) => ({
      index: trial.index,
      name: trial.name,
      configName: trial.configName,
      configIndex: trial.configIndex,
      seed: trial.seed,
      hparams: trial.hparams,
      steps: trial.config.steps,
    })),
  };
}

/** The same handler for every request: a phase that stops the same way however often it is asked. */
function eachRequest(handler: (reason: string, count: number) => void): StopHandlers {
  return { graceful: (reason) => handler(reason, 1), immediate: handler };
}

/** What the earlier runs left and what this run does. */
export interface SweepPlan {
  previous: Map<string, TrialStatus | undefined>;
  /** Done trials whose configuration changed, rerun with --force. */
  rerun: Set<string>;
  skipped: Trial[];
  toRun: Trial[];
}

/** How the trials of this run ended. */
interface TrialsOutcome extends TrialOutcomes {
  leftRunning: string[];
  /** Why trials failed, as this process saw it (their status.json may not have taken it: a full disk). */
  causes?: Map<string, string>;
  submission?: BatchSubmission;
  detached?: boolean;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "pid 123" here; "pid 123 on host h (job 5_1)" elsewhere. */
export function describeRun(status: TrialStatus): string {
  const where = status.host !== undefined && status.host !== hostname() ? ` on host ${status.host}` : '';
  return `pid ${status.pid}${where}${status.job ? `, job ${status.job}` : ''}`;
}

/** An earlier run's trials that may still be running: alive here, or on another host with a fresh heartbeat. */
export function mayStillRun(status: TrialStatus | undefined, batch: boolean): boolean {
  if (status?.state !== 'running') return false;
  // A batch executor asks its queue about its own jobs instead (activeSubmissions).
  if (batch && status.host !== undefined && status.host !== hostname()) return false;
  const liveness = trialLiveness(status).kind;
  return liveness === 'alive' || liveness === 'orphaned';
}

/**
 * Refuses a sweep folder that is not this sweep's, before anything is written there: a
 * sweep may only write (and delete) its own files. Its own: absent, empty, or holding
 * this sweep's sweep.json (a sweep.json of another file is this sweep edited: finished
 * trials it would change are refused in planSweep). The lock file alone is what a
 * sweep killed before writing sweep.json leaves.
 */
export async function checkSweepFolder(sweepDir: string, spec: SweepSpec): Promise<void> {
  let contents: FolderContents;
  try {
    contents = await folderContents(sweepDir);
  } catch (error) {
    throw new ConfigError(`cannot read the sweep folder ${sweepDir} (${describeFsError(error)}); check its permissions or pass --logdir`);
  }
  const elsewhere = `another name ("name:" in ${spec.file}) or pass --logdir <another folder>`;
  if (contents.kind === 'file') {
    throw new ConfigError(
      contents.file === sweepDir
        ? `${sweepDir} is a file, but the sweep "${spec.name}" needs that path for its folder; give the sweep ${elsewhere}`
        : `${contents.file} is a file where a folder was expected (the sweep's folder is ${sweepDir}); pass --logdir <a folder>`,
    );
  }
  if (contents.kind === 'absent' || contents.kind === 'empty') return;
  if (contents.kind === 'other' && contents.entries.every((name) => name === LOCK_FILE)) return;
  if (contents.kind === 'sweep') {
    const manifest = await readManifest(sweepDir);
    if (manifest === undefined || manifest.name === spec.name) return;
    throw new ConfigError(`${sweepDir} holds the sweep "${manifest.name}" (of ${manifest.file}), not "${spec.name}"; give the sweep ${elsewhere}. Nothing was written.`);
  }
  throw new ConfigError(
    `${sweepDir} ${describeContents(sweepDir, contents)}, so it is not the folder of the sweep "${spec.name}": ` +
      `a sweep writes only into its own folder. Give the sweep ${elsewhere}. Nothing was written.`,
  );
}

/** A batch executor's submissions of this sweep still queued or running elsewhere are refused: their trials would run twice. */
async function checkNoSubmissionRuns(options: RunSweepOptions): Promise<void> {
  const { sweepDir, executor } = options;
  if (!isBatchExecutor(executor)) return;
  const active = await executor.activeSubmissions(sweepDir);
  if (active.length > 0) {
    const jobs = active.map((submission) => submission.description).join(', ');
    throw new SweepChangedError(
      `${jobs} of this sweep ${active.length === 1 ? 'is' : 'are'} still queued or running; ` +
        `follow ${active.length === 1 ? 'it' : 'them'} with: ${options.statusCommand ?? `sweep status ${sweepDir}`}, ` +
        `or cancel ${active.length === 1 ? 'it' : 'them'} with: ${active.map((submission) => submission.cancelCommand).join('; ')} before running the sweep again`,
    );
  }
}

/** Refuses trials an earlier run may still be running (unless `force`: the process is not a trial). */
function checkNothingRuns(trials: Trial[], previous: Map<string, TrialStatus | undefined>, options: { force: boolean; batch: boolean }): void {
  const stillRunning = trials.filter((trial) => mayStillRun(previous.get(trial.name), options.batch));
  if (stillRunning.length > 0 && !options.force) {
    throw new SweepChangedError(
      `the run of ${stillRunning.map((t) => `${t.name} (${describeRun(previous.get(t.name)!)})`).join(', ')} ` +
        'from an earlier sweep is still running; wait for it to stop before resuming (or pass --force if that process is not a trial)',
    );
  }
}

/** Each trial's status.json as earlier runs left it; a damaged one is warned about and counts as none. */
export async function readPreviousStatuses(sweepDir: string, trials: Trial[], warn: Warn): Promise<Map<string, TrialStatus | undefined>> {
  const previous = new Map<string, TrialStatus | undefined>();
  for (const trial of trials) previous.set(trial.name, await readStatus(path.join(sweepDir, trial.name), warn));
  return previous;
}

/**
 * What a run of `trials` does with each, from what earlier runs left (`previous`): a complete
 * trial (done, or stopped at a rung by the sweep's scheduler) is skipped, a paused one resumed
 * from its rung like any incomplete one; a complete one whose configuration the sweep file has
 * changed since is refused (results of two configurations would mix), or rerun with `force`. Trials an earlier run
 * may still be running are refused too (checkNothingRuns). `sweep run` plans all its
 * trials with it, `sweep trial` its one; nothing is written.
 */
export async function planTrials(spec: SweepSpec, sweepDir: string, trials: Trial[], previous: Map<string, TrialStatus | undefined>, options: { force: boolean; batch: boolean }): Promise<SweepPlan> {
  checkNothingRuns(trials, previous, options);
  const changed: Array<{ trial: Trial; differences: string[] }> = [];
  for (const trial of trials) {
    if (!isComplete(previous.get(trial.name))) continue;
    const before = await readTrialConfig(path.join(sweepDir, trial.name));
    const differences = before ? configDifferences(before, trial.config) : [];
    if (differences.length > 0) changed.push({ trial, differences });
  }
  if (changed.length > 0 && !options.force) {
    const shown = changed.slice(0, 5).map(({ trial, differences }) => `  ${trial.name}: ${differences.join(', ')}`);
    if (changed.length > 5) shown.push(`  ... and ${changed.length - 5} more`);
    throw new SweepChangedError(
      `${spec.file} changed the configuration of ${changed.length} finished trial${changed.length === 1 ? '' : 's'} in ${sweepDir}:\n` +
        `${shown.join('\n')}\nRunning it would mix results of different configurations. Use another sweep name (or --logdir), ` +
        'or pass --force to rerun those trials with the new configuration (their earlier runs are moved aside, not deleted).',
    );
  }
  const rerun = new Set(changed.map(({ trial }) => trial.name));
  const skipped = trials.filter((trial) => isComplete(previous.get(trial.name)) && !rerun.has(trial.name));
  const skippedNames = new Set(skipped.map((trial) => trial.name));
  const toRun = trials.filter((trial) => !skippedNames.has(trial.name));
  return { previous, rerun, skipped, toRun };
}

/** Reads what earlier runs left, refuses what would mix configurations, writes sweep.json and the pending statuses. */
async function planSweep(options: RunSweepOptions): Promise<SweepPlan> {
  const { spec, trials, sweepDir } = options;
  const previous = await readPreviousStatuses(sweepDir, trials, (message) => options.view.log(`warning: ${message}`));
  await checkNoSubmissionRuns(options);
  const plan = await planTrials(spec, sweepDir, trials, previous, { force: options.force ?? false, batch: isBatchExecutor(options.executor) });

  await writeManifest(sweepDir, sweepManifest(spec, trials));
  writeExperimentSummary(sweepDir, spec);
  for (const trial of plan.toRun) {
    const dir = path.join(sweepDir, trial.name);
    await ensureDir(dir);
    if (!previous.get(trial.name)) await writeStatus(dir, pendingStatus(trial));
  }
  return plan;
}

/** Each trial as a child process of this one, `concurrency` at a time. */
async function runLocally(options: RunSweepOptions, executor: TrialExecutor, plan: SweepPlan, stops: StopRequests): Promise<TrialsOutcome> {
  const { sweepDir, view } = options;
  const running = new Map<string, RunningTrial>();
  stops.handleWith({
    graceful: (reason) => {
      view.log(`${reason}: no new trial starts; asking ${plural(running.size, 'running trial')} to save a snapshot and stop (press Ctrl-C again to stop at once)`);
      for (const handle of running.values()) handle.stop();
    },
    immediate: (reason, count) => {
      if (count > 2) return;
      view.log(`${reason} again: stopping ${plural(running.size, 'running trial')} at once`);
      for (const handle of running.values()) handle.kill();
    },
  });
  view.log(`running ${plural(plan.toRun.length, 'trial')} of ${options.spec.name}, ${options.concurrency} at a time, as ${executor.description}; logs in ${sweepDir}/<trial>/`);
  const outcome: TrialsOutcome = { ...emptyTrialOutcomes(), leftRunning: [], causes: new Map() };
  const runOne = async (trial: Trial): Promise<void> => {
    const control = trialControl(stops, (handle) => {
      if (handle) running.set(trial.name, handle);
      else running.delete(trial.name);
    });
    const run = await runTrial({
      trial,
      dir: path.join(sweepDir, trial.name),
      executor,
      retries: options.retries ?? 0,
      previous: plan.previous.get(trial.name),
      restart: plan.rerun.has(trial.name),
      control,
      callbacks: {
        log: (line) => view.log(line),
        started: (attempt) => view.trialStarted(trial, attempt),
        progress: (progress) => view.trialProgress(trial, progress),
        ended: (state, line) => view.trialEnded(trial, state, line),
      },
    });
    outcome[run.state].push(trial.name);
    if (run.state === 'failed' && run.status.cause) outcome.causes!.set(trial.name, run.status.cause);
  };
  const limit = pLimit(Math.max(1, options.concurrency ?? 1));
  await Promise.all(plan.toRun.map((trial) => limit(() => runOne(trial))));
  return outcome;
}

/** The question asked on the first Ctrl-C while following a batch submission. */
function cancelQuestion(reason: string, submission: BatchSubmission): string {
  return `${reason}: cancel ${submission.description} (${submission.cancelCommand})? Its running trials would save a snapshot and stop; otherwise they go on without this command. [y/N] `;
}

/** All trials submitted at once to a cluster's queue, then followed until they ended. */
async function runAsBatch(options: RunSweepOptions, executor: BatchExecutor, plan: SweepPlan, stops: StopRequests): Promise<TrialsOutcome> {
  const { spec, sweepDir, view } = options;
  const names = plan.toRun.map((trial) => trial.name);
  if (stops.stopping) return { ...emptyTrialOutcomes(), notStarted: names, leftRunning: [] };
  // A Ctrl-C while sbatch runs is handled once the job exists (it may be cancelled then).
  let lateStop: string | undefined;
  stops.handleWith(
    eachRequest((reason) => {
      lateStop ??= reason;
    }),
  );
  const submission = await executor.submit({
    sweepFile: spec.file,
    sweepName: spec.name,
    sweepDir,
    trials: options.trials,
    indices: plan.toRun.map((trial) => trial.index),
    concurrency: options.concurrency,
    retries: options.retries ?? 0,
    force: options.force ?? false,
  });
  if (options.detach) return { ...emptyTrialOutcomes(), leftRunning: names, submission, detached: true };
  const pace = options.concurrency === undefined ? 'as many at once as the cluster gives' : `${options.concurrency} at a time`;
  view.log(`submitted ${plural(plan.toRun.length, 'trial')} of ${spec.name} as ${submission.description} (${executor.description}, ${pace}); ` + `logs in ${sweepDir}/<trial>/`);

  const follower = new BatchFollower({
    submission,
    trials: plan.toRun,
    sweepDir,
    previous: plan.previous,
    view,
    retries: options.retries ?? 0,
    statusPollMs: options.statusPollMs ?? 1000,
    queuePollMs: options.queuePollMs ?? 10_000,
    orphanGraceMs: options.orphanGraceMs ?? 5_000,
  });
  let asking: AbortController | undefined;
  const onInterrupt = async (reason: string, count: number): Promise<void> => {
    if (count > 1) {
      asking?.abort();
      view.log(`${reason} again: no longer following ${submission.description}`);
      follower.leave();
      return;
    }
    let cancel = false;
    const choice = options.cancelOnInterrupt ?? false;
    if (typeof choice === 'function') {
      asking = new AbortController();
      view.end(); // the question needs a screen that is not redrawn under it
      cancel = await choice(cancelQuestion(reason, submission), asking.signal).catch(() => false);
      if (asking.signal.aborted) return;
    } else {
      cancel = choice;
    }
    if (cancel) {
      view.log(
        `${reason}: cancelling ${submission.description} (${submission.cancelCommand}): queued trials will not start, ` +
          'running ones save a snapshot and stop (press Ctrl-C again to stop following at once)',
      );
      await follower.cancel();
    } else {
      view.log(`${reason}: no longer following ${submission.description}; its trials go on`);
      follower.leave();
    }
  };
  stops.handleWith(eachRequest((reason, count) => void onInterrupt(reason, count)));
  if (lateStop !== undefined) void onInterrupt(lateStop, 1);
  return { ...(await follower.run()), submission };
}

/** "3 done trials", "3 done trials and 2 trials stopped at a rung": what a rerun skips. */
function skippedText(plan: SweepPlan): string {
  const stopped = plan.skipped.filter((trial) => plan.previous.get(trial.name)?.state === 'stopped').length;
  const done = plan.skipped.length - stopped;
  return [done > 0 ? plural(done, 'done trial') : '', stopped > 0 ? `${plural(stopped, 'trial')} stopped at a rung` : ''].filter((part) => part !== '').join(' and ');
}

/** Where to look at a sweep that goes on without this process. */
function followUpLines(options: RunSweepOptions, submission: BatchSubmission): string[] {
  return [
    `  progress: ${options.statusCommand ?? `sweep status ${options.sweepDir}`}`,
    `  results:  ${options.resultsCommand ?? `sweep results ${options.sweepDir}`}`,
    `  cancel:   ${submission.cancelCommand}`,
  ];
}

/** Where the results went: the files, or why they could not be written. */
type ResultsFiles = { csv: string; json: string } | { error: string };

/** Errors that mean the disk (or the quota) is full. */
const DISK_FULL = /\b(ENOSPC|EDQUOT)\b/;

/** The final report's text and exit code. */
function finalReport(options: RunSweepOptions, plan: SweepPlan, outcome: TrialsOutcome, results: SweepResults, files: ResultsFiles, interrupted: boolean): { text: string; exitCode: number } {
  const { sweepDir } = options;
  const report: string[] = ['', formatResults(results, { unfinished: false }), ''];
  let exitCode = 0;
  if ('error' in files) {
    exitCode = 1;
    report.push(`Results NOT saved: ${files.error}; once that is fixed, write them with: sweep results ${sweepDir}`);
  } else {
    report.push(`Results: ${files.csv}, ${files.json}`);
  }
  report.push(`TensorBoard: tensorboard --logdir ${sweepDir}`);
  const causes = new Map(outcome.failed.map((name) => [name, outcome.causes?.get(name) ?? results.trials.find((t) => t.name === name)?.cause ?? 'failed']));
  if (outcome.failed.length > 0) {
    exitCode = 1;
    report.push('', `${plural(outcome.failed.length, 'trial')} failed:`);
    for (const name of outcome.failed) report.push(`  ${name}: ${causes.get(name)}`, `    log: ${path.join(sweepDir, name, STDERR_LOG)}`);
    const full = [...causes.values()].filter((cause) => DISK_FULL.test(cause)).length;
    if (full > 0) {
      report.push(
        `The disk is full: ${plural(full, 'trial')} failed for lack of space (ENOSPC) under ${sweepDir}; ` +
          `free some space (or pass --logdir on another disk), then resume with: ${options.resumeCommand}`,
      );
    } else if (!interrupted) {
      report.push(`Rerun the failed trials with: ${options.resumeCommand}`);
    }
  }
  if (!interrupted && outcome.interrupted.length > 0) {
    // Stopped from outside (a kill, scancel, preemption): the sweep is not complete.
    exitCode ||= 1;
    report.push(
      '',
      `${plural(outcome.interrupted.length, 'trial')} stopped from outside this sweep (a signal, or its job was cancelled): ${outcome.interrupted.join(', ')}`,
      `Resume ${outcome.interrupted.length === 1 ? 'it' : 'them'} with: ${options.resumeCommand}`,
    );
  }
  if (outcome.paused.length > 0) {
    // Left waiting at a rung (an adaptive sweep's scheduler neither promoted nor stopped them): not a failure, not complete.
    report.push(
      '',
      `${plural(outcome.paused.length, 'trial')} paused at a rung, each with a checkpoint there: ${outcome.paused.join(', ')}`,
      `Resume ${outcome.paused.length === 1 ? 'it' : 'them'} from there with: ${options.resumeCommand}`,
    );
  }
  if (interrupted) {
    exitCode = 130;
    report.push('', `Interrupted: ${plural(outcome.interrupted.length, 'trial')} stopped, ` + `${outcome.notStarted.length} not started, ${plan.skipped.length + outcome.done.length} done.`);
    if (outcome.leftRunning.length > 0 && outcome.submission) {
      report.push(`${plural(outcome.leftRunning.length, 'trial')} still queued or running in ${outcome.submission.description}:`, ...followUpLines(options, outcome.submission));
      report.push(`Once it has ended, rerun what is not done with: ${options.resumeCommand}`);
    } else {
      report.push(`To resume: ${options.resumeCommand}`);
    }
  }
  return { text: report.join('\n'), exitCode };
}

export async function runSweep(options: RunSweepOptions): Promise<SweepOutcome> {
  const { spec, trials, sweepDir, executor, view } = options;
  await checkSweepFolder(sweepDir, spec);
  try {
    await ensureDir(sweepDir);
  } catch (error) {
    throw new Error(`cannot create the sweep folder ${sweepDir} (${describeFsError(error)}); check that it is writable or pass --logdir`);
  }
  const lock = await acquireLock(sweepDir, options.command);
  if (lock.tookOver) view.log(lock.tookOver);

  const stops = new StopRequests(
    eachRequest((reason) => view.log(`${reason}: stopping before any trial starts`)),
    {
      signals: options.handleSignals ?? false,
      name: (signal) => (signal === 'SIGINT' ? 'Ctrl-C' : signal),
      ...(options.stopSignal ? { abort: options.stopSignal, abortReason: 'stop requested' } : {}),
    },
  );

  try {
    const plan = await planSweep(options);
    if (plan.skipped.length > 0) view.log(`skipping ${skippedText(plan)} (already in ${sweepDir})`);
    const detaching = isBatchExecutor(executor) && options.detach;
    if (!detaching) view.begin(plan.toRun, plan.skipped.length);
    const outcome: TrialsOutcome =
      plan.toRun.length === 0
        ? { ...emptyTrialOutcomes(), leftRunning: [] }
        : isBatchExecutor(executor)
          ? await runAsBatch(options, executor, plan, stops)
          : await runLocally(options, executor, plan, stops);
    view.end();

    const results = await collectResults(sweepDir, sweepManifest(spec, trials));
    const { done, failed, interrupted, paused, notStarted, leftRunning } = outcome;
    const base = {
      skipped: plan.skipped.map((t) => t.name),
      done,
      failed,
      interrupted,
      paused,
      notStarted,
      leftRunning,
      results,
      ...(outcome.submission ? { submitted: outcome.submission.id } : {}),
    };
    if (outcome.detached && outcome.submission) {
      options.print(
        [
          `Submitted ${plural(outcome.leftRunning.length, 'trial')} of ${spec.name} as ${outcome.submission.description} ` + `(logs in ${sweepDir}/<trial>/); they run without this command:`,
          ...followUpLines(options, outcome.submission),
        ].join('\n'),
      );
      return { exitCode: 0, ...base };
    }
    const files: ResultsFiles = await writeResults(sweepDir, results).catch((error: Error) => ({ error: error.message }));
    const { text, exitCode } = finalReport(options, plan, outcome, results, files, stops.stopping);
    options.print(text);
    return { exitCode, ...base };
  } finally {
    view.end();
    stops.dispose();
    await lock.release();
  }
}
