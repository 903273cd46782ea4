/**
 * Runs a sweep's trials through a TrialExecutor: at most `concurrency` at once
 * (p-limit), failed trials retried, done trials skipped on a rerun, Ctrl-C
 * forwarded to the trials, status.json kept up to date, results written at the end.
 */
import { promises as fs, rmSync } from 'node:fs';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { type RunConfig, runConfigKeys } from '../train/config.js';
import { describeFsError, ensureDir } from '../util/files.js';
import type { RunProgressMessage } from '../train/progress.js';
import { SummaryWriter, listEventFiles, readRun, type MetricInfo } from '../tensorboard/index.js';
import { experimentHParams, sweptParameters, type Trial } from './expand.js';
import type { RunningTrial, TrialExecutor, TrialExit } from './executor.js';
import { acquireLock, processAlive } from './lock.js';
import type { SweepView } from './progress-view.js';
import { collectResults, formatResults, writeResults, type SweepResults } from './results.js';
import type { SweepSpec } from './spec.js';
import {
  type SweepManifest, type TrialState, type TrialStatus,
  STDERR_LOG, STDOUT_LOG, STATUS_FILE, TRIAL_CONFIG_FILE, pendingStatus, readStatus, readTrialConfig, writeJsonAtomic, writeManifest, writeStatus,
} from './status.js';

export interface RunSweepOptions {
  spec: SweepSpec;
  trials: Trial[];
  /** <logdir>/<sweep name>: the trials' logdir. */
  sweepDir: string;
  executor: TrialExecutor;
  concurrency: number;
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
}

export interface SweepOutcome {
  /** 0 all done, 1 some trial failed, 130 interrupted. */
  exitCode: number;
  skipped: string[];
  done: string[];
  failed: string[];
  interrupted: string[];
  notStarted: string[];
  results: SweepResults;
}

/** A finished trial's configuration differs from what the file now gives it. */
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

const PREVIOUS_PREFIX = 'previous-';
/** What stays in a trial folder when an incomplete run is moved aside. */
const KEPT_IN_TRIAL_DIR = new Set([STATUS_FILE, TRIAL_CONFIG_FILE]);

/** The RunConfig keys (but name and logdir) whose values differ. */
export function configDifferences(previous: Partial<RunConfig>, next: RunConfig): string[] {
  const differences: string[] = [];
  for (const key of runConfigKeys) {
    if (key === 'name' || key === 'logdir' || !(key in previous)) continue;
    const before = JSON.stringify(previous[key]);
    const after = JSON.stringify(next[key]);
    if (before !== after) differences.push(`${key} ${before} -> ${after}`);
  }
  return differences;
}

function stamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
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
  const moving = entries.filter((name) => !KEPT_IN_TRIAL_DIR.has(name) && !name.startsWith(PREVIOUS_PREFIX) && !name.includes('.tmp-'));
  if (moving.length === 0) return undefined;
  let target = path.join(trialDir, `${PREVIOUS_PREFIX}${stamp()}`);
  for (let n = 2; await fs.access(target).then(() => true, () => false); n++) target = path.join(trialDir, `${PREVIOUS_PREFIX}${stamp()}-${n}`);
  await fs.mkdir(target);
  for (const name of moving) await fs.rename(path.join(trialDir, name), path.join(target, name));
  return target;
}

/** Whether `dir` holds a started run (its config.json) of exactly this trial's configuration. */
async function sameRunStarted(dir: string, trial: Trial): Promise<boolean> {
  let runConfig: Partial<RunConfig>;
  try {
    runConfig = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as Partial<RunConfig>;
  } catch {
    return false;
  }
  return configDifferences(runConfig, trial.config).length === 0;
}

/** The run's own "error: ..." line from the end of its stderr, else its last line. */
async function failureCause(stderrFile: string): Promise<string | undefined> {
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
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const errorLine = [...lines].reverse().find((line) => /^error: /.test(line));
  if (errorLine) return errorLine.slice('error: '.length);
  const thrown = [...lines].reverse().find((line) => /^\w*Error\b.*: /.test(line));
  return thrown ?? lines.at(-1);
}

/** Records a failed session end for a run that died without writing one (killed, crashed). */
function recordSessionFailure(trialDir: string): void {
  try {
    if (listEventFiles(trialDir).length === 0) return;
    const run = readRun(trialDir);
    if (!run.hparams_session || run.hparams_session.end_status !== undefined) return;
    const writer = new SummaryWriter(trialDir, { flushSeconds: 0 });
    writer.hparamsSessionEnd('failure');
    writer.close();
  } catch {
    // The statuses and logs already say it failed; TensorBoard's view is a nicety.
  }
}

/** Replaces the sweep root's hparams experiment summary (the only event file kept there). */
export function writeExperimentSummary(sweepDir: string, spec: SweepSpec): void {
  // Only our experiment summaries live at the root; one (the current one) is enough.
  for (const file of listEventFiles(sweepDir)) rmSync(file, { force: true });
  const metrics = [...EXPERIMENT_METRICS];
  if (!metrics.some((metric) => metric.tag === spec.metric.name)) metrics.push({ tag: spec.metric.name });
  const writer = new SummaryWriter(sweepDir, { flushSeconds: 0, filenameSuffix: '.sweep' });
  writer.hparamsExperiment(experimentHParams(spec), metrics, { name: spec.name, description: spec.description ?? `rlsweep sweep ${spec.name} (${spec.file})` });
  writer.close();
}

function manifestOf(spec: SweepSpec, trials: Trial[]): SweepManifest {
  return {
    name: spec.name, file: spec.file, method: spec.method, metric: spec.metric, seeds: spec.seeds,
    swept: sweptParameters(spec).map((parameter) => parameter.key), updatedAt: new Date().toISOString(),
    trials: trials.map((trial) => ({
      index: trial.index, name: trial.name, configName: trial.configName, configIndex: trial.configIndex,
      seed: trial.seed, hparams: trial.hparams, steps: trial.config.steps,
    })),
  };
}

function classify(exit: TrialExit, finished: Extract<RunProgressMessage, { type: 'finished' }> | undefined, stopping: boolean): { state: TrialState; cause: string | null } {
  if (exit.launchError) return { state: 'failed', cause: `could not start the run: ${exit.launchError}` };
  if (exit.exitCode === 0) return { state: finished?.interrupted ? 'interrupted' : 'done', cause: null };
  if (exit.exitCode === 130) return { state: 'interrupted', cause: null };
  if (exit.signal) return stopping ? { state: 'interrupted', cause: `stopped by ${exit.signal}` } : { state: 'failed', cause: `killed by ${exit.signal}` };
  return { state: 'failed', cause: null };
}

export async function runSweep(options: RunSweepOptions): Promise<SweepOutcome> {
  const { spec, trials, sweepDir, executor, view } = options;
  const retries = options.retries ?? 0;
  try {
    await ensureDir(sweepDir);
  } catch (error) {
    throw new Error(`cannot create the sweep folder ${sweepDir} (${describeFsError(error)}); check that it is writable or pass --logdir`);
  }
  const lock = await acquireLock(sweepDir, options.command);
  if (lock.tookOver) view.log(lock.tookOver);

  const running = new Map<string, RunningTrial>();
  let stopping = false;
  let killing = false;
  const stop = (reason: string): void => {
    if (!stopping) {
      stopping = true;
      view.log(`${reason}: no new trial starts; asking ${running.size} running trial${running.size === 1 ? '' : 's'} to save a snapshot and stop `
        + '(press Ctrl-C again to stop at once)');
      for (const handle of running.values()) handle.stop();
    } else if (!killing) {
      killing = true;
      view.log(`${reason} again: stopping ${running.size} running trial${running.size === 1 ? '' : 's'} at once`);
      for (const handle of running.values()) handle.kill();
    }
  };
  const onSignal = (name: NodeJS.Signals): void => stop(name === 'SIGINT' ? 'Ctrl-C' : name);
  const onAbort = (): void => stop('stop requested');
  if (options.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  options.stopSignal?.addEventListener('abort', onAbort);

  try {
    // What is there already.
    const previous = new Map<string, TrialStatus | undefined>();
    for (const trial of trials) previous.set(trial.name, await readStatus(path.join(sweepDir, trial.name), (message) => view.log(`warning: ${message}`)));

    const stillRunning = trials.filter((trial) => {
      const status = previous.get(trial.name);
      return status?.state === 'running' && status.pid !== null && processAlive(status.pid);
    });
    if (stillRunning.length > 0 && !options.force) {
      throw new SweepChangedError(`the run of ${stillRunning.map((t) => `${t.name} (pid ${previous.get(t.name)!.pid})`).join(', ')} `
        + 'from an earlier sweep is still running; wait for it to stop before resuming (or pass --force if that process is not a trial)');
    }

    const changed: Array<{ trial: Trial; differences: string[] }> = [];
    for (const trial of trials) {
      if (previous.get(trial.name)?.state !== 'done') continue;
      const before = await readTrialConfig(path.join(sweepDir, trial.name));
      const differences = before ? configDifferences(before, trial.config) : [];
      if (differences.length > 0) changed.push({ trial, differences });
    }
    if (changed.length > 0 && !options.force) {
      const shown = changed.slice(0, 5).map(({ trial, differences }) => `  ${trial.name}: ${differences.join(', ')}`);
      if (changed.length > 5) shown.push(`  ... and ${changed.length - 5} more`);
      throw new SweepChangedError(`${spec.file} changed the configuration of ${changed.length} finished trial${changed.length === 1 ? '' : 's'} in ${sweepDir}:\n`
        + `${shown.join('\n')}\nRunning it would mix results of different configurations. Use another sweep name (or --logdir), `
        + 'or pass --force to rerun those trials with the new configuration (their earlier runs are moved aside, not deleted).');
    }
    const rerun = new Set(changed.map(({ trial }) => trial.name));

    await writeManifest(sweepDir, manifestOf(spec, trials));
    writeExperimentSummary(sweepDir, spec);

    const skipped = trials.filter((trial) => previous.get(trial.name)?.state === 'done' && !rerun.has(trial.name));
    const skippedNames = new Set(skipped.map((trial) => trial.name));
    const toRun = trials.filter((trial) => !skippedNames.has(trial.name));
    for (const trial of toRun) {
      const dir = path.join(sweepDir, trial.name);
      await fs.mkdir(dir, { recursive: true });
      if (!previous.get(trial.name)) await writeStatus(dir, pendingStatus(trial));
    }
    if (skipped.length > 0) view.log(`skipping ${skipped.length} done trial${skipped.length === 1 ? '' : 's'} (already in ${sweepDir})`);
    if (toRun.length > 0) view.log(`running ${toRun.length} trial${toRun.length === 1 ? '' : 's'} of ${spec.name}, ${options.concurrency} at a time, as ${executor.description}; logs in ${sweepDir}/<trial>/`);
    view.begin(toRun, skipped.length);

    const outcome = { done: [] as string[], failed: [] as string[], interrupted: [] as string[], notStarted: [] as string[] };

    const runTrial = async (trial: Trial): Promise<void> => {
      const dir = path.join(sweepDir, trial.name);
      let attempt = previous.get(trial.name)?.attempt ?? 0;
      for (let tries = 0; ; tries++) {
        if (stopping) {
          outcome.notStarted.push(trial.name);
          return;
        }
        attempt++;
        const status: TrialStatus = { ...pendingStatus(trial), state: 'running', attempt, startedAt: new Date().toISOString() };
        let writes = Promise.resolve();
        const save = (): void => {
          const snapshot = { ...status };
          writes = writes.then(() => writeStatus(dir, snapshot)).catch(() => {});
        };
        let finished: Extract<RunProgressMessage, { type: 'finished' }> | undefined;
        let exit: TrialExit;
        try {
          // An incomplete run of the same configuration continues from its checkpoint; one of
          // another configuration (changed file with --force) is moved aside, never deleted.
          const resume = !rerun.has(trial.name) && await sameRunStarted(dir, trial);
          if (resume) {
            view.log(`${trial.name}: resuming the earlier incomplete run from its latest checkpoint`);
          } else {
            const moved = await moveAside(dir);
            if (moved) view.log(`${trial.name}: moved the earlier run aside to ${moved}`);
          }
          const configFile = path.join(dir, TRIAL_CONFIG_FILE);
          await writeJsonAtomic(configFile, trial.config);
          if (stopping) {
            // Ctrl-C came while the folder was being prepared.
            await writeStatus(dir, { ...(previous.get(trial.name) ?? pendingStatus(trial)) });
            outcome.notStarted.push(trial.name);
            return;
          }
          let lastSave = 0;
          const handle = executor.start({
            trial, dir, configFile, resume,
            stdoutFile: path.join(dir, STDOUT_LOG),
            stderrFile: path.join(dir, STDERR_LOG),
            onMessage: (message) => {
              view.trialMessage(trial, message);
              switch (message.type) {
                case 'started':
                  status.totalSteps = message.totalSteps;
                  break;
                case 'progress':
                  status.step = message.step;
                  status.totalSteps = message.totalSteps;
                  status.stepsPerSecond = message.stepsPerSecond;
                  break;
                case 'evaluation':
                  status.lastEvaluation = { step: message.step, returnMean: message.returnMean, returnStd: message.returnStd, avgMaxQ: message.avgMaxQ };
                  break;
                case 'finished':
                  finished = message;
                  status.step = message.step;
                  status.finalReturnMean = message.finalReturnMean;
                  status.bestReturnMean = message.bestReturnMean;
                  break;
              }
              // Progress comes often; the file need not follow every message.
              if (message.type !== 'progress' || Date.now() - lastSave > 2000) {
                lastSave = Date.now();
                save();
              }
            },
          });
          running.set(trial.name, handle);
          status.pid = handle.id === undefined ? null : Number(handle.id);
          save();
          view.trialStarted(trial, attempt);
          // A stop that came while this trial was being launched.
          if (stopping) handle.stop();
          if (killing) handle.kill();
          exit = await handle.exited;
          running.delete(trial.name);
        } catch (error) {
          running.delete(trial.name);
          exit = { exitCode: null, signal: null, launchError: (error as Error).message };
        }
        await writes;

        const { state, cause } = classify(exit, finished, stopping);
        status.state = state;
        status.exitCode = exit.exitCode;
        status.signal = exit.signal;
        status.endedAt = new Date().toISOString();
        status.pid = null;
        if (state === 'failed') {
          const reason = cause ?? (await failureCause(path.join(dir, STDERR_LOG))) ?? 'no error message';
          status.cause = exit.exitCode !== null && !cause ? `exit code ${exit.exitCode}: ${reason}` : reason;
          recordSessionFailure(dir);
        } else {
          status.cause = cause;
        }
        await writeStatus(dir, status).catch((error: Error) => view.log(`${trial.name}: cannot write ${STATUS_FILE}: ${error.message}`));

        const log = path.join(dir, STDERR_LOG);
        if (state === 'failed' && tries < retries && !stopping) {
          view.trialEnded(trial, 'retrying', `failed ${trial.name}: ${status.cause}; retrying (${tries + 1}/${retries})`);
          continue;
        }
        if (state === 'done') {
          outcome.done.push(trial.name);
          const metric = status.finalReturnMean === null ? '' : `, eval/return_mean ${status.finalReturnMean.toFixed(2)}`;
          view.trialEnded(trial, 'done', `done ${trial.name} (${status.step} steps${metric})`);
        } else if (state === 'interrupted') {
          outcome.interrupted.push(trial.name);
          view.trialEnded(trial, 'interrupted', `interrupted ${trial.name} at step ${status.step}/${status.totalSteps}`);
        } else {
          outcome.failed.push(trial.name);
          view.trialEnded(trial, 'failed', `FAILED ${trial.name}: ${status.cause} (log: ${log})`);
        }
        return;
      }
    };

    const limit = pLimit(Math.max(1, options.concurrency));
    await Promise.all(toRun.map((trial) => limit(() => runTrial(trial))));
    view.end();

    const results = await collectResults(sweepDir, manifestOf(spec, trials));
    const files = await writeResults(sweepDir, results);
    const report: string[] = ['', formatResults(results, { unfinished: false }), '', `Results: ${files.csv}, ${files.json}`, `TensorBoard: tensorboard --logdir ${sweepDir}`];
    let exitCode = 0;
    if (outcome.failed.length > 0) {
      exitCode = 1;
      report.push('', `${outcome.failed.length} trial${outcome.failed.length === 1 ? '' : 's'} failed:`);
      for (const name of outcome.failed) {
        const result = results.trials.find((t) => t.name === name);
        report.push(`  ${name}: ${result?.cause ?? 'failed'}`, `    log: ${path.join(sweepDir, name, STDERR_LOG)}`);
      }
      if (!stopping) report.push(`Rerun the failed trials with: ${options.resumeCommand}`);
    }
    if (stopping) {
      exitCode = 130;
      report.push('', `Interrupted: ${outcome.interrupted.length} trial${outcome.interrupted.length === 1 ? '' : 's'} stopped, `
        + `${outcome.notStarted.length} not started, ${skipped.length + outcome.done.length} done.`, `To resume: ${options.resumeCommand}`);
    }
    options.print(report.join('\n'));
    return { exitCode, skipped: skipped.map((t) => t.name), ...outcome, results };
  } finally {
    view.end();
    if (options.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    options.stopSignal?.removeEventListener('abort', onAbort);
    await lock.release();
  }
}
