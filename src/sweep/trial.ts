/**
 * One trial, run to its end: its folder prepared (an incomplete run of the same
 * configuration is resumed, any other run moved aside), trial.json written, the run
 * started through a TrialExecutor, status.json kept up to date from the run's
 * progress messages, and the end recorded (state, exit code, cause), with retries.
 *
 * The local scheduler runs this for each trial in its own process; `sweep trial
 * <file> --index i` runs it in a Slurm array task (or any other scheduler's task),
 * so a trial writes the same files wherever it runs.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { type RunConfig, outputOnlyKeys, runConfigKeys } from '../train/config.js';
import { EXIT_PAUSED, type RunProgressMessage } from '../train/run-messages.js';
import { CHECKPOINTS_DIR } from '../train/checkpoint.js';
import { type SessionEndStatus, SummaryWriter, listEventFiles, readRun } from '../tensorboard/index.js';
import type { Trial } from './expand.js';
import type { RunningTrial, TrialExecutor, TrialExit } from './executor.js';
import { HEARTBEAT_MS } from './liveness.js';
import { TEMPORARY_FILE_MARK, fileNameStamp, readJson, writeJsonAtomic } from '../util/files.js';
import type { StopRequests } from '../util/signals.js';
import { RUN_CONFIG_FILE } from '../util/run-folders.js';
import {
  type EndedTrialState,
  type EndedTrialStatus,
  type TrialPlacement,
  type TrialStatus,
  STATUS_FILE,
  STDERR_LOG,
  STDOUT_LOG,
  TRIAL_CONFIG_FILE,
  type TrialProgress,
  applyRunMessage,
  pendingStatus,
  readStatus,
  writeStatus,
} from './trial-status.js';

/** What the caller shows of a running trial (the sweep's progress view, or a `sweep trial` console). */
export interface TrialCallbacks {
  log(line: string): void;
  started(attempt: number): void;
  /** The trial's progress changed (after one of its run's messages). */
  progress(progress: Readonly<TrialProgress>): void;
  /** How the attempt ended; 'retrying': it failed, and another attempt follows. */
  ended(state: EndedTrialState | 'retrying', line: string): void;
}

/** The stop state of the caller, and where it keeps the running run so a Ctrl-C reaches it. */
export interface TrialControl {
  readonly stopping: boolean;
  readonly killing: boolean;
  /** The run that started, then undefined once it ended. */
  running(handle: RunningTrial | undefined): void;
}

/** A TrialControl that stops as `stops` says: gracefully after a first request, at once after a second. */
export function trialControl(stops: StopRequests, running: (handle: RunningTrial | undefined) => void): TrialControl {
  return {
    get stopping() {
      return stops.stopping;
    },
    get killing() {
      return stops.stoppingNow;
    },
    running,
  };
}

export interface RunTrialOptions {
  trial: Trial;
  /** The trial's folder, <sweepDir>/<trial name>. */
  dir: string;
  executor: TrialExecutor;
  /** Extra attempts after a failure. */
  retries: number;
  /** The trial's status before this run; its attempts are counted on from it. */
  previous: TrialStatus | undefined;
  /** Start over even if the folder holds a started run of the same configuration (a --force rerun). */
  restart: boolean;
  /** Where the trial runs, recorded in status.json. Default: this host. */
  placement?: TrialPlacement;
  /**
   * Run only up to this environment step (a rung), then pause there: the outcome is `paused`,
   * status.json records `rungStep`, and a later runTrial resumes from that step's checkpoint
   * (with a later stopAtStep, or none to run to the end). A launch option: the trial's
   * configuration, and so its identity, stay the same. At the trial's `steps` it simply runs to the end.
   */
  stopAtStep?: number;
  control: TrialControl;
  callbacks: TrialCallbacks;
}

/** How runTrial left a trial: ended (as its status.json says), or 'notStarted' (a stop came before the run was started). */
export type TrialOutcome = EndedTrialState | 'notStarted';

/** The names of trials by how they ended; what the local scheduler and the batch follower collect. */
export type TrialOutcomes = Record<TrialOutcome, string[]>;

export function emptyTrialOutcomes(): TrialOutcomes {
  return { done: [], failed: [], interrupted: [], paused: [], stopped: [], notStarted: [] };
}

export interface TrialRun {
  state: TrialOutcome;
  status: TrialStatus;
}

export const PREVIOUS_PREFIX = 'previous-';
/** What stays in a trial folder when an incomplete run is moved aside. */
const KEPT_IN_TRIAL_DIR = new Set([STATUS_FILE, TRIAL_CONFIG_FILE]);
/** Progress comes often; status.json need not follow every message. */
const PROGRESS_SAVE_MS = 2000;

/** The RunConfig keys whose values differ, leaving out those that only say where a run writes and what it keeps. */
export function configDifferences(previous: Partial<RunConfig>, next: RunConfig): string[] {
  const differences: string[] = [];
  for (const key of runConfigKeys) {
    if (outputOnlyKeys.has(key) || !(key in previous)) continue;
    const before = JSON.stringify(previous[key]);
    const after = JSON.stringify(next[key]);
    if (before !== after) differences.push(`${key} ${before} -> ${after}`);
  }
  return differences;
}

/**
 * Moves a trial's earlier, incomplete run (config.json, event files, snapshots,
 * logs) into <trial>/previous-<time>/, so the new run starts clean and TensorBoard
 * shows each step of the trial once. Returns the folder, or undefined if nothing moved.
 */
export async function moveAside(trialDir: string): Promise<string | undefined> {
  let entries: string[];
  try {
    entries = await fs.readdir(trialDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Slurm's output files stay too: the running array task is writing one of them.
  const moving = entries.filter((name) => !KEPT_IN_TRIAL_DIR.has(name) && !name.startsWith(PREVIOUS_PREFIX) && !name.includes(TEMPORARY_FILE_MARK) && !/^slurm-.*\.out$/.test(name));
  if (moving.length === 0) return undefined;
  let target = path.join(trialDir, `${PREVIOUS_PREFIX}${fileNameStamp()}`);
  for (
    let n = 2;
    await fs.access(target).then(
      () => true,
      () => false,
    );
    n++
  )
    target = path.join(trialDir, `${PREVIOUS_PREFIX}${fileNameStamp()}-${n}`);
  await fs.mkdir(target);
  for (const name of moving) await fs.rename(path.join(trialDir, name), path.join(target, name));
  return target;
}

/** Whether `dir` holds a started run (its config.json) of exactly this trial's configuration. */
export async function sameRunStarted(dir: string, trial: Trial): Promise<boolean> {
  // Unreadable or damaged: no run to resume (the new one starts clean, the old one moved aside).
  const runConfig = await readJson<Partial<RunConfig>>(path.join(dir, RUN_CONFIG_FILE), () => {}).catch(() => undefined);
  return typeof runConfig === 'object' && runConfig !== null && configDifferences(runConfig, trial.config).length === 0;
}

/** The run's own "error: ..." line from the end of its stderr, else its last line. */
export async function failureCause(stderrFile: string): Promise<string | undefined> {
  let text: string;
  try {
    const handle = await fs.open(stderrFile, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const errorLine = [...lines].reverse().find((line) => /^error: /.test(line));
  if (errorLine) return errorLine.slice('error: '.length);
  const thrown = [...lines].reverse().find((line) => /^\w*Error\b.*: /.test(line));
  return thrown ?? lines.at(-1);
}

/**
 * Appends an HParams session end to the trial's run, in an event file of its own; `unlessEnded`:
 * only when the run wrote none. Best effort: status.json is what says how the trial ended,
 * TensorBoard's view is a nicety.
 */
function recordSessionEnd(trialDir: string, endStatus: SessionEndStatus, unlessEnded: boolean): void {
  try {
    if (listEventFiles(trialDir).length === 0) return;
    const run = readRun(trialDir);
    if (!run.hparams_session || (unlessEnded && run.hparams_session.end_status !== undefined)) return;
    const writer = new SummaryWriter(trialDir, { flushSeconds: 0 });
    writer.hparamsSessionEnd(endStatus);
    writer.close();
  } catch {
    // See above: nothing to report beyond status.json.
  }
}

/** Records a failed session end for a run that died without writing one (killed, crashed). */
export function recordSessionFailure(trialDir: string): void {
  recordSessionEnd(trialDir, 'failure', true);
}

/**
 * For the sweep's scheduler: marks the paused trial in `trialDir` `stopped` at its rung — a
 * normal end (a rerun skips it, results count its metric at the rung, sweep prune may take
 * its checkpoints) — writing status.json atomically, and TensorBoard's session end as
 * 'success' (its run ended where the sweep wanted). `stoppedBy`: what decided it, e.g. "asha".
 * Marking a stopped trial again changes nothing (so a replayed decision is harmless); any
 * other state is an error naming it. Returns the status written.
 */
export async function markTrialStopped(trialDir: string, stoppedBy?: string): Promise<EndedTrialStatus> {
  const file = path.join(trialDir, STATUS_FILE);
  let damage: string | undefined;
  const status = await readStatus(trialDir, (problem) => {
    damage = problem;
  });
  if (status?.state === 'stopped') return status as EndedTrialStatus;
  if (status?.state !== 'paused') {
    const found = status ? `${file} says it is ${status.state}` : (damage ?? `it has no ${STATUS_FILE}`);
    throw new Error(`cannot mark ${trialDir} stopped: ${found}; only a paused trial (waiting at a rung) can be stopped`);
  }
  const stopped: EndedTrialStatus = {
    ...status,
    state: 'stopped',
    rungStep: status.rungStep ?? status.step,
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
    endedAt: new Date().toISOString(),
  };
  await writeStatus(trialDir, stopped);
  recordSessionEnd(trialDir, 'success', false);
  return stopped;
}

type Finished = Extract<RunProgressMessage, { type: 'finished' }>;
type Paused = Extract<RunProgressMessage, { type: 'paused' }>;
type Failure = Extract<RunProgressMessage, { type: 'failed' }>;

/**
 * What a run that finished (or paused: `withCheckpoint`) at `step` must have left in `dir`:
 * its config.json, an event file, its snapshot at `step`, and when paused the checkpoint
 * there that resumes it. Returns the missing ones (relative to `dir`).
 */
export async function missingRunFiles(dir: string, step: number, withCheckpoint = false): Promise<string[]> {
  const snapshot = path.join('snapshots', `step-${step}`);
  const required = [RUN_CONFIG_FILE, path.join(snapshot, 'model.json'), path.join(snapshot, 'weights.bin')];
  if (withCheckpoint) required.push(path.join(CHECKPOINTS_DIR, `step-${step}`, 'checkpoint.json'));
  const missing: string[] = [];
  for (const file of required)
    if (
      !(await fs.access(path.join(dir, file)).then(
        () => true,
        () => false,
      ))
    )
      missing.push(file);
  let events: string[] = [];
  try {
    events = listEventFiles(dir);
  } catch {
    // The folder itself is gone: every file is missing.
  }
  if (events.length === 0) missing.splice(1, 0, 'its event file');
  return missing;
}

function classify(exit: TrialExit, finished: Finished | undefined, stopping: boolean): { state: EndedTrialState; cause: string | null } {
  if (exit.launchError) return { state: 'failed', cause: `could not start the run: ${exit.launchError}` };
  if (exit.exitCode === 0) return { state: finished?.interrupted ? 'interrupted' : 'done', cause: null };
  if (exit.exitCode === EXIT_PAUSED) return { state: 'paused', cause: null };
  if (exit.exitCode === 130) return { state: 'interrupted', cause: null };
  if (exit.signal) return stopping ? { state: 'interrupted', cause: `stopped by ${exit.signal}` } : { state: 'failed', cause: `killed by ${exit.signal}` };
  return { state: 'failed', cause: null };
}

/** The line that says how a trial ended (the same for local and Slurm trials). */
export function trialEndLine(trial: Trial, status: TrialStatus, dir: string): string {
  switch (status.state) {
    case 'done': {
      const metric = status.finalReturnMean === null ? '' : `, eval/return_mean ${status.finalReturnMean.toFixed(2)}`;
      return `done ${trial.name} (${status.step} steps${metric})`;
    }
    case 'interrupted':
      return `interrupted ${trial.name} at step ${status.step}/${status.totalSteps}`;
    case 'paused': {
      const metric = status.finalReturnMean === null ? '' : `, eval/return_mean ${status.finalReturnMean.toFixed(2)}`;
      return `paused ${trial.name} at step ${status.rungStep ?? status.step}/${status.totalSteps}${metric}`;
    }
    case 'stopped':
      return `stopped ${trial.name} at step ${status.rungStep ?? status.step}/${status.totalSteps}${status.stoppedBy ? ` by ${status.stoppedBy}` : ''}`;
    default:
      return `FAILED ${trial.name}: ${status.cause} (log: ${path.join(dir, STDERR_LOG)})`;
  }
}

/**
 * One attempt: prepares the folder, runs the run, records how it ended. Undefined
 * when a stop came before the run started (the status is left as it was).
 */
async function runAttempt(options: RunTrialOptions, attempt: number): Promise<EndedTrialStatus | undefined> {
  const { trial, dir, executor, control, callbacks } = options;
  const status: TrialStatus = {
    ...pendingStatus(trial),
    ...(options.placement ?? { host: hostname() }),
    state: 'running',
    attempt,
    startedAt: new Date().toISOString(),
  };
  let writes = Promise.resolve();
  // Every write is a heartbeat too; the timer keeps them coming between progress messages.
  const save = (): void => {
    status.heartbeatAt = new Date().toISOString();
    const snapshot = { ...status };
    writes = writes.then(() => writeStatus(dir, snapshot)).catch(() => {});
  };
  let heartbeat: NodeJS.Timeout | undefined;
  let finished: Finished | undefined;
  let paused: Paused | undefined;
  let failure: Failure | undefined;
  let exit: TrialExit;
  try {
    // An incomplete run of the same configuration continues from its checkpoint; one of
    // another configuration (changed file with --force) is moved aside, never deleted.
    const resume = !options.restart && (await sameRunStarted(dir, trial));
    if (resume) {
      callbacks.log(`${trial.name}: resuming the earlier incomplete run from its latest checkpoint`);
    } else {
      const moved = await moveAside(dir);
      if (moved) callbacks.log(`${trial.name}: moved the earlier run aside to ${moved}`);
    }
    const configFile = path.join(dir, TRIAL_CONFIG_FILE);
    await writeJsonAtomic(configFile, trial.config);
    if (control.stopping) {
      // The stop came while the folder was being prepared.
      await writeStatus(dir, { ...(options.previous ?? pendingStatus(trial)) });
      return undefined;
    }
    let lastSave = 0;
    const handle = executor.start({
      trial,
      dir,
      configFile,
      resume,
      ...(options.stopAtStep === undefined ? {} : { stopAtStep: options.stopAtStep }),
      stdoutFile: path.join(dir, STDOUT_LOG),
      stderrFile: path.join(dir, STDERR_LOG),
      onMessage: (message) => {
        applyRunMessage(status, message);
        callbacks.progress(status);
        if (message.type === 'finished') finished = message;
        if (message.type === 'paused') paused = message;
        if (message.type === 'failed') failure = message;
        if (message.type !== 'progress' || Date.now() - lastSave > PROGRESS_SAVE_MS) {
          lastSave = Date.now();
          save();
        }
      },
    });
    control.running(handle);
    status.pid = handle.id === undefined ? null : Number(handle.id);
    status.supervisorPid = process.pid;
    save();
    heartbeat = setInterval(save, HEARTBEAT_MS);
    heartbeat.unref();
    callbacks.started(attempt);
    // A stop that came while this trial was being launched.
    if (control.stopping) handle.stop();
    if (control.killing) handle.kill();
    exit = await handle.exited;
  } catch (error) {
    exit = { exitCode: null, signal: null, launchError: (error as Error).message };
  } finally {
    clearInterval(heartbeat);
    control.running(undefined);
  }
  await writes;

  const classified = classify(exit, finished, control.stopping);
  // A run that says it finished (or paused) but whose files are gone (deleted while it ran) is no result.
  const missing = classified.state === 'done' || classified.state === 'paused' ? await missingRunFiles(dir, status.step, classified.state === 'paused') : [];
  const { state, cause } =
    missing.length === 0
      ? classified
      : { state: 'failed' as const, cause: `the run finished, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (deleted while it ran?); run the sweep again to rerun it` };
  status.state = state;
  status.exitCode = exit.exitCode;
  status.signal = exit.signal;
  status.endedAt = new Date().toISOString();
  status.pid = null;
  if (state === 'paused') status.rungStep = paused?.step ?? status.step;
  if (state === 'failed') {
    // The run's own words: over IPC (they arrive even when a full disk lost its stderr), else its stderr.
    const reason = cause ?? failure?.reason ?? (await failureCause(path.join(dir, STDERR_LOG))) ?? 'no error message';
    status.cause = exit.exitCode !== null && !cause ? `exit code ${exit.exitCode}: ${reason}` : reason;
    recordSessionFailure(dir);
  } else {
    status.cause = cause;
  }
  delete status.heartbeatAt;
  const ended: EndedTrialStatus = { ...status, state };
  // The end must be recorded even on a full disk: then status.json is rewritten in place.
  await writeStatus(dir, ended, { inPlaceWhenFull: true }).catch((error: Error) => callbacks.log(`${trial.name}: cannot record its end (${state}) in ${STATUS_FILE}: ${error.message}`));
  return ended;
}

/** Runs a trial (with its retries) and keeps its status.json; never throws for a failed run. */
export async function runTrial(options: RunTrialOptions): Promise<TrialRun> {
  const { trial, dir, control, callbacks } = options;
  let attempt = options.previous?.attempt ?? 0;
  for (let tries = 0; ; tries++) {
    const notStarted = (): TrialRun => ({ state: 'notStarted', status: options.previous ?? pendingStatus(trial) });
    if (control.stopping) return notStarted();
    attempt++;
    const status = await runAttempt(options, attempt);
    if (!status) return notStarted();
    if (status.state === 'failed' && tries < options.retries && !control.stopping) {
      callbacks.ended('retrying', `failed ${trial.name}: ${status.cause}; retrying (${tries + 1}/${options.retries})`);
      continue;
    }
    callbacks.ended(status.state, trialEndLine(trial, status, dir));
    return { state: status.state, status };
  }
}
