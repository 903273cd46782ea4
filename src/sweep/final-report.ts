/** The text a sweep run prints at its end (results, failures, how to resume) and its exit code. */
import * as path from 'node:path';
import type { BatchSubmission } from './executor.js';
import { formatResults, type SweepResults } from './results.js';
import type { SweepPlan } from './sweep-plan.js';
import { type TrialsOutcome, plural } from './sweep-outcome.js';
import { STDERR_LOG } from './trial-status.js';

export interface ReportOptions {
  sweepDir: string;
  resumeCommand: string;
  statusCommand?: string;
  resultsCommand?: string;
}

/** "3 done trials", "3 done trials and 2 trials stopped at a rung": what a rerun skips. */
export function skippedText(plan: Pick<SweepPlan, 'skipped' | 'previous'>): string {
  const stopped = plan.skipped.filter((trial) => plan.previous.get(trial.name)?.state === 'stopped').length;
  const done = plan.skipped.length - stopped;
  return [done > 0 ? plural(done, 'done trial') : '', stopped > 0 ? `${plural(stopped, 'trial')} stopped at a rung` : ''].filter((part) => part !== '').join(' and ');
}

/** Where to look at a sweep that goes on without this process. */
export function followUpLines(options: ReportOptions, submission: BatchSubmission): string[] {
  return [
    `  progress: ${options.statusCommand ?? `sweep status ${options.sweepDir}`}`,
    `  results:  ${options.resultsCommand ?? `sweep results ${options.sweepDir}`}`,
    `  cancel:   ${submission.cancelCommand}`,
  ];
}

/** Where the results went: the files, or why they could not be written. */
export type ResultsFiles = { csv: string; json: string } | { error: string };

/** Errors that mean the disk (or the quota) is full. */
const DISK_FULL = /\b(ENOSPC|EDQUOT)\b/;

/** The final report's text and exit code. */
export function finalReport(
  options: ReportOptions,
  plan: Pick<SweepPlan, 'skipped'>,
  outcome: TrialsOutcome,
  results: SweepResults,
  files: ResultsFiles,
  interrupted: boolean,
): { text: string; exitCode: number } {
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
