/**
 * A sweep's trials submitted at once to a cluster's queue (a BatchExecutor: one Slurm
 * job array), each task running the same runTrial (`sweep trial --index i`), then
 * followed through the queue and the status files (BatchFollower). The first Ctrl-C
 * cancels the submission or leaves it running (or asks); a second stops following.
 */
import type { SweepSpec } from './spec.js';
import type { Trial } from './expand.js';
import type { BatchExecutor, BatchSubmission } from './executor.js';
import { BatchFollower } from './follow.js';
import type { SweepView } from './progress-view.js';
import type { SweepPlan } from './sweep-plan.js';
import { type TrialsOutcome, eachRequest, plural } from './sweep-outcome.js';
import type { StopRequests } from '../util/signals.js';
import { emptyTrialOutcomes } from './trial.js';

export interface BatchRunOptions {
  spec: SweepSpec;
  trials: Trial[];
  sweepDir: string;
  view: SweepView;
  concurrency: number | undefined;
  retries?: number;
  force?: boolean;
  detach?: boolean;
  cancelOnInterrupt?: boolean | CancelPrompt;
  queuePollMs?: number;
  statusPollMs?: number;
  orphanGraceMs?: number;
}

/** Asks whether to cancel a batch submission after a Ctrl-C; aborted by a second Ctrl-C. */
export type CancelPrompt = (question: string, signal: AbortSignal) => Promise<boolean>;

/** The question asked on the first Ctrl-C while following a batch submission. */
function cancelQuestion(reason: string, submission: BatchSubmission): string {
  return `${reason}: cancel ${submission.description} (${submission.cancelCommand})? Its running trials would save a snapshot and stop; otherwise they go on without this command. [y/N] `;
}

/** All trials submitted at once to a cluster's queue, then followed until they ended. */
export async function runAsBatch(options: BatchRunOptions, executor: BatchExecutor, plan: SweepPlan, stops: StopRequests): Promise<TrialsOutcome> {
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
