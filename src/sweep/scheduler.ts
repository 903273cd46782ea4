/**
 * Runs a sweep's trials: the sweep folder checked and locked, Ctrl-C taken
 * (withSweepSession), what earlier runs left planned (sweep-plan.ts), the trials run
 * locally (run-local.ts) or through a cluster's queue (run-batch.ts), results written
 * and the final report printed (final-report.ts). Done trials are skipped on a rerun.
 */
import { collectResults, writeResults, type SweepResults } from './results.js';
import type { Trial } from './expand.js';
import { type BatchExecutor, type TrialExecutor, isBatchExecutor } from './executor.js';
import { acquireLock } from './lock.js';
import type { SweepView } from './progress-view.js';
import type { SweepSpec } from './spec.js';
import { checkSweepFolder, sweepManifest } from './sweep-files.js';
import { prepareSweep } from './sweep-plan.js';
import { type TrialsOutcome, eachRequest, plural } from './sweep-outcome.js';
import { runLocally } from './run-local.js';
import { type CancelPrompt, runAsBatch } from './run-batch.js';
import { type ResultsFiles, finalReport, followUpLines, skippedText } from './final-report.js';
import { emptyTrialOutcomes } from './trial.js';
import { describeFsError, ensureDir } from '../util/files.js';
import { StopRequests } from '../util/signals.js';

export type { CancelPrompt };

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

/** What every sweep run needs around its work: the sweep folder (checked, created, locked) and the stop requests. */
export interface SweepSessionOptions {
  spec: SweepSpec;
  sweepDir: string;
  view: Pick<SweepView, 'log' | 'end'>;
  command?: string;
  handleSignals?: boolean;
  stopSignal?: AbortSignal;
}

/**
 * Checks the sweep folder is this sweep's, creates and locks it, takes Ctrl-C (and
 * `stopSignal`) as stop requests, runs `work`, then releases all of it.
 */
export async function withSweepSession<T>(options: SweepSessionOptions, work: (stops: StopRequests) => Promise<T>): Promise<T> {
  const { spec, sweepDir, view } = options;
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
    return await work(stops);
  } finally {
    view.end();
    stops.dispose();
    await lock.release();
  }
}

export async function runSweep(options: RunSweepOptions): Promise<SweepOutcome> {
  const { spec, trials, sweepDir, executor, view } = options;
  return withSweepSession(options, async (stops) => {
    const plan = await prepareSweep(options);
    if (plan.skipped.length > 0) view.log(`skipping ${skippedText(plan)} (already in ${sweepDir})`);
    const detaching = isBatchExecutor(executor) && options.detach;
    if (!detaching) view.begin(plan.toRun, plan.skipped.length);
    const outcome: TrialsOutcome =
      plan.toRun.length === 0
        ? { ...emptyTrialOutcomes(), leftRunning: [] }
        : isBatchExecutor(executor)
          ? await runAsBatch(options, executor, plan, stops)
          : await runLocally({ ...options, sweepName: spec.name }, executor, plan, stops);
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
  });
}
