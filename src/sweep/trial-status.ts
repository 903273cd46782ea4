/**
 * status.json of a trial: its state, exit code, times and latest metric. Written
 * atomically (temporary file + rename), so a reader — `sweep results`, or a
 * resumed sweep after a crash — never sees half a file.
 */
import * as path from 'node:path';
import { ConfigError, type RunConfig } from '../train/config.js';
import type { RunProgressMessage } from '../train/run-messages.js';
import { type AtomicWriteOptions, type Warn, describeFsError, readJson, warnOnStderr, writeJsonAtomic } from '../util/files.js';
import { type FolderContents, SWEEP_MANIFEST_FILE, TRIAL_CONFIG_FILE, describeContents, folderContents } from '../util/run-folders.js';
import type { MetricDefinition } from './metric-summary.js';
import { loadSweepSpec } from './spec.js';

/**
 * A trial's state, as its status.json records it. Besides pending, running and how a run
 * ended (done, failed, interrupted), an adaptive sweep's two: `paused` — the run stopped
 * where it was told (a rung, --stop-at-step) with a checkpoint there, and waits to be
 * promoted (resumed) or stopped; `stopped` — the sweep's scheduler stopped it at its rung
 * (`rungStep`), a normal end like done, whose metric is the evaluation at that rung.
 */
export type TrialState = 'pending' | 'running' | 'done' | 'failed' | 'interrupted' | 'paused' | 'stopped';
export const TRIAL_STATES: readonly TrialState[] = ['pending', 'running', 'done', 'failed', 'interrupted', 'paused', 'stopped'];
/** The states a trial's attempt ends in: how its last run ended (or, for `stopped`, what the scheduler made of a pause). */
export type EndedTrialState = Exclude<TrialState, 'pending' | 'running'>;
const ENDED_TRIAL_STATES: ReadonlySet<TrialState> = new Set(['done', 'failed', 'interrupted', 'paused', 'stopped']);
/** Trials that need no more running: a rerun of the sweep skips them (and never resumes a stopped one). */
const COMPLETE_TRIAL_STATES: ReadonlySet<TrialState> = new Set(['done', 'stopped']);

export const STATUS_FILE = 'status.json';
/** The config a trial's run is started with (`rlsweep-run --config trial.json`). */
export { TRIAL_CONFIG_FILE };
export const STDOUT_LOG = 'stdout.log';
export const STDERR_LOG = 'stderr.log';

export interface TrialEvaluation {
  step: number;
  returnMean: number;
  returnStd: number;
  avgMaxQ: number;
}

export interface TrialStatus {
  trial: string;
  index: number;
  state: TrialState;
  /** 1 for the first run of the trial, 2 for its first retry or rerun, ... */
  attempt: number;
  /** Exit code of the run (0 done, 1 error, 2 config error, 75 paused, 130 interrupted); null while running or when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** Why it failed, e.g. the run's "error: ..." line. */
  cause: string | null;
  startedAt: string | null;
  endedAt: string | null;
  pid: number | null;
  step: number;
  totalSteps: number;
  stepsPerSecond: number | null;
  /** The latest evaluation (eval/return_mean and friends). */
  lastEvaluation: TrialEvaluation | null;
  /** From the run's `finished` message: eval/return_mean of the last and of the best evaluation. */
  finalReturnMean: number | null;
  bestReturnMean: number | null;
  /** Relative to the trial folder. */
  stdoutLog: string;
  stderrLog: string;
  updatedAt: string;
  /** Where the latest attempt ran (absent in statuses written before this field existed). */
  host?: string;
  /** The scheduler's job of the latest attempt, e.g. Slurm's "<array job>_<task>". */
  job?: string;
  /**
   * While running: the process that runs the trial and writes this file (`sweep run`, or
   * `sweep trial` in a batch task), and when it last did. It refreshes `heartbeatAt` every
   * HEARTBEAT_MS, so a reader tells a live trial from one whose processes are gone (pid on
   * this host; heartbeat age elsewhere). Absent in statuses written before these fields.
   */
  supervisorPid?: number;
  heartbeatAt?: string;
  /**
   * paused and stopped: the environment step of the rung it waits at or was stopped at (the
   * step of its checkpoint, and of the evaluation that is its metric when the rung is an evaluation step).
   */
  rungStep?: number;
  /** stopped: what stopped it, e.g. "asha" (the scheduler's name; free text). */
  stoppedBy?: string;
}

/** A status that records an end. */
export type EndedTrialStatus = TrialStatus & { state: EndedTrialState };

export function hasEnded(status: TrialStatus): status is EndedTrialStatus {
  return ENDED_TRIAL_STATES.has(status.state);
}

/** Whether the trial needs no more running (done, or stopped by the scheduler): a rerun skips it. Paused ones are not complete. */
export function isComplete(status: TrialStatus | undefined): boolean {
  return status !== undefined && COMPLETE_TRIAL_STATES.has(status.state);
}

/** Where a trial runs: the host (its pid only means something there) and a scheduler's job. */
export type TrialPlacement = Pick<TrialStatus, 'host' | 'job'>;

export function pendingStatus(trial: { name: string; index: number; config: { steps: number } }): TrialStatus {
  return {
    trial: trial.name,
    index: trial.index,
    state: 'pending',
    attempt: 0,
    exitCode: null,
    signal: null,
    cause: null,
    startedAt: null,
    endedAt: null,
    pid: null,
    step: 0,
    totalSteps: trial.config.steps,
    stepsPerSecond: null,
    lastEvaluation: null,
    finalReturnMean: null,
    bestReturnMean: null,
    stdoutLog: STDOUT_LOG,
    stderrLog: STDERR_LOG,
    updatedAt: new Date().toISOString(),
  };
}

export async function writeStatus(trialDir: string, status: TrialStatus, options: AtomicWriteOptions = {}): Promise<void> {
  await writeJsonAtomic(path.join(trialDir, STATUS_FILE), { ...status, updatedAt: new Date().toISOString() }, options);
}

/** A trial's status; undefined when there is none, or it is damaged (said through `warn`: the trial then counts as not done). */
export async function readStatus(trialDir: string, warn: Warn = warnOnStderr): Promise<TrialStatus | undefined> {
  const file = path.join(trialDir, STATUS_FILE);
  const status = await readJson<TrialStatus>(file, (problem) => warn(`${problem}; ignoring it; the trial counts as not done`));
  if (status === undefined) return undefined;
  if (typeof status !== 'object' || status === null || !TRIAL_STATES.includes(status.state)) {
    warn(`${file} has no valid "state" (one of ${TRIAL_STATES.join(', ')}); ignoring it, the trial counts as not done`);
    return undefined;
  }
  return status;
}

/**
 * The config a trial last ran with: its trial.json, else the run's config.json
 * (which also holds how it ran: version, backend; compare RunConfig keys only).
 */
export async function readTrialConfig(trialDir: string): Promise<Partial<RunConfig> | undefined> {
  return (await readJson<Partial<RunConfig>>(path.join(trialDir, TRIAL_CONFIG_FILE))) ?? (await readJson<Partial<RunConfig>>(path.join(trialDir, 'config.json')));
}

export const MANIFEST_FILE = SWEEP_MANIFEST_FILE;

/** sweep.json at the sweep's root: what `sweep results` needs to know about the trials. */
export interface SweepManifest {
  name: string;
  file: string;
  method: string;
  /** The metric and how a trial is scored by it (summary, k, threshold: absent in files written before them). */
  metric: MetricDefinition;
  seeds: number[];
  /** Swept parameter names, in file order. */
  swept: string[];
  updatedAt: string;
  trials: Array<{ index: number; name: string; configName: string; configIndex: number; seed: number; hparams: Record<string, number | string | boolean>; steps: number }>;
}

export async function writeManifest(sweepDir: string, manifest: SweepManifest): Promise<void> {
  await writeJsonAtomic(path.join(sweepDir, MANIFEST_FILE), manifest);
}

export async function readManifest(sweepDir: string): Promise<SweepManifest | undefined> {
  const manifest = await readJson<SweepManifest>(path.join(sweepDir, MANIFEST_FILE));
  return manifest && Array.isArray(manifest.trials) ? manifest : undefined;
}

/**
 * What the folder a command (`sweep status`, `results`, `report`) was given holds, or an
 * error saying what was expected there (`expected`) and what to give instead: for a sweep
 * file, its folder is named.
 */
async function requireFolderArgument(dir: string, command: string, expected: string): Promise<FolderContents> {
  if (dir.trim() === '') throw new ConfigError(`sweep ${command} got an empty path; ${expected}`);
  let contents: FolderContents;
  try {
    contents = await folderContents(dir);
  } catch (error) {
    throw new Error(`cannot read the folder ${dir} (${describeFsError(error)}); check its permissions`);
  }
  if (contents.kind === 'file') {
    if (contents.file !== dir) throw new ConfigError(`${contents.file} is a file, so ${dir} cannot be a folder; ${expected}`);
    const name = /\.ya?ml$/i.test(dir)
      ? await loadSweepSpec(dir).then(
          (spec) => spec.name,
          () => undefined,
        )
      : undefined;
    throw new ConfigError(
      name !== undefined
        ? `${dir} is a sweep file, but sweep ${command} takes a sweep's folder: for this file, sweep ${command} ${path.join('runs', name)} ` + `(or <logdir>/${name} if it ran with --logdir)`
        : `${dir} is a file, but ${expected}`,
    );
  }
  if (contents.kind === 'absent') throw new ConfigError(`${dir} does not exist; ${expected} (sweeps run so far have their folders under the logdir, runs/ by default)`);
  return contents;
}

/** Checks that `dir` is a folder a report can be made of (a sweep's, or any folder of runs). */
export async function requireRunsFolder(dir: string, command: string): Promise<void> {
  await requireFolderArgument(dir, command, `sweep ${command} takes a sweep's folder or a folder of runs, e.g. runs/<sweep name>`);
}

/** The sweep.json of the folder a command was given, or an error saying what was expected there. */
export async function requireSweepFolder(dir: string, command: string): Promise<SweepManifest> {
  const expected = `sweep ${command} takes a sweep's folder, e.g. runs/<sweep name>`;
  const contents = await requireFolderArgument(dir, command, expected);
  const manifest = await readManifest(dir);
  if (!manifest && contents.kind === 'sweep') {
    throw new Error(`${path.join(dir, MANIFEST_FILE)} is damaged (not a sweep manifest); running the sweep file again ("sweep run <file>") rewrites it`);
  }
  if (!manifest) {
    throw new ConfigError(`${dir} is not a sweep folder: it has no valid ${MANIFEST_FILE} and ${describeContents(dir, contents)}; ` + `${expected}, made by "sweep run <file>"`);
  }
  return manifest;
}

/** What a trial's run has reported so far: the part of its status that the run's progress messages fill in. */
export type TrialProgress = Pick<TrialStatus, 'step' | 'totalSteps' | 'stepsPerSecond' | 'lastEvaluation' | 'finalReturnMean' | 'bestReturnMean'>;

/** Folds one of the run's progress messages into `progress` (a status.json's, or a view's): the one place messages become state. */
export function applyRunMessage(progress: TrialProgress, message: RunProgressMessage): void {
  switch (message.type) {
    case 'started':
      progress.totalSteps = message.totalSteps;
      break;
    case 'progress':
      progress.step = message.step;
      progress.totalSteps = message.totalSteps;
      progress.stepsPerSecond = message.stepsPerSecond;
      break;
    case 'evaluation':
      progress.lastEvaluation = { step: message.step, returnMean: message.returnMean, returnStd: message.returnStd, avgMaxQ: message.avgMaxQ };
      break;
    case 'finished':
    case 'paused':
      progress.step = message.step;
      progress.finalReturnMean = message.finalReturnMean;
      progress.bestReturnMean = message.bestReturnMean;
      break;
    case 'failed':
      break;
  }
}
