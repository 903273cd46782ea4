/**
 * What a sweep run does with each trial, from what earlier runs left in the sweep
 * folder: done trials are skipped, changed ones refused (or rerun with --force),
 * trials still running elsewhere refused. prepareSweep then writes sweep.json, the
 * hparams experiment and the pending statuses.
 */
import { hostname } from 'node:os';
import * as path from 'node:path';
import { type Warn, ensureDir } from '../util/files.js';
import type { Trial } from './expand.js';
import { type BatchExecutor, type TrialExecutor, isBatchExecutor } from './executor.js';
import { trialLiveness } from './liveness.js';
import type { SweepView } from './progress-view.js';
import type { SweepSpec } from './spec.js';
import { sweepManifest, writeExperimentSummary } from './sweep-files.js';
import { type TrialStatus, isComplete, pendingStatus, readStatus, readTrialConfig, writeManifest, writeStatus } from './trial-status.js';
import { configDifferences } from './trial.js';

/** A finished trial's configuration differs from what the file now gives it (or its trials still run elsewhere). */
export class SweepChangedError extends Error {
  override name = 'SweepChangedError';
}

/** What the earlier runs left and what this run does. */
export interface SweepPlan {
  previous: Map<string, TrialStatus | undefined>;
  /** Done trials whose configuration changed, rerun with --force. */
  rerun: Set<string>;
  skipped: Trial[];
  toRun: Trial[];
}

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

/** A batch executor's submissions of this sweep still queued or running elsewhere are refused: their trials would run twice. */
export async function checkNoSubmissionRuns(options: Pick<PrepareSweepOptions, 'sweepDir' | 'executor' | 'statusCommand'>): Promise<void> {
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

/** What prepareSweep needs of a sweep run. */
export interface PrepareSweepOptions {
  spec: SweepSpec;
  trials: Trial[];
  sweepDir: string;
  executor: TrialExecutor | BatchExecutor;
  force?: boolean;
  view: Pick<SweepView, 'log'>;
  statusCommand?: string;
}

/** Reads what earlier runs left, refuses what would mix configurations, writes sweep.json and the pending statuses. */
export async function prepareSweep(options: PrepareSweepOptions): Promise<SweepPlan> {
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
