/**
 * The adaptive controller's segments as cluster jobs: each segment (a configuration's
 * trials to their next rung) is one submission of a BatchExecutor (a Slurm job array of
 * the configuration's seeds, each task `sweep trial <file> --index i --stop-at-step N`),
 * followed through the queue and the status files (BatchFollower) until its tasks ended.
 * The controller stays on the submitting machine and decides as the segments come back;
 * concurrency is the controller's (it submits no more than that many trials at once).
 */
import * as path from 'node:path';
import type { StopRequests } from '../util/signals.js';
import type { SegmentRunner, TrialSegmentResult } from './adaptive.js';
import type { Trial } from './expand.js';
import type { BatchExecutor } from './executor.js';
import { BatchFollower } from './follow.js';
import type { SweepView } from './progress-view.js';
import { markStopped, metricAtStep } from './segment-runner.js';
import type { SweepSpec } from './spec.js';
import { readPreviousStatuses } from './sweep-plan.js';
import { readStatus } from './trial-status.js';

export interface BatchSegmentOptions {
  spec: SweepSpec;
  sweepDir: string;
  executor: BatchExecutor;
  /** The controller's concurrency: a segment's array runs at most this many of its seeds at once. */
  concurrency: number;
  retries: number;
  view: SweepView;
  stops: StopRequests;
  queuePollMs: number;
  statusPollMs: number;
  orphanGraceMs: number;
}

export class BatchSegmentRunner implements SegmentRunner {
  private readonly followers = new Set<BatchFollower>();
  /** Every trial the controller made so far: a task finds its trial's name by its index. */
  private readonly known = new Map<number, Trial>();

  constructor(private readonly options: BatchSegmentOptions) {}

  async run(trials: readonly Trial[], stopAtStep: number): Promise<TrialSegmentResult[]> {
    const { spec, sweepDir, executor, view } = this.options;
    for (const trial of trials) this.known.set(trial.index, trial);
    if (this.options.stops.stopping) return trials.map((trial) => ({ trial, state: 'notStarted', value: null }));
    const previous = await readPreviousStatuses(sweepDir, [...trials], (message) => view.log(`warning: ${message}`));
    const atEnd = stopAtStep >= trials[0]!.config.steps;
    const submission = await executor.submit({
      sweepFile: spec.file,
      sweepName: spec.name,
      sweepDir,
      trials: [...this.known.values()].sort((a, b) => a.index - b.index),
      indices: trials.map((trial) => trial.index),
      concurrency: Math.min(trials.length, this.options.concurrency),
      retries: this.options.retries,
      force: false,
      ...(atEnd ? {} : { stopAtStep }),
    });
    view.log(`submitted ${trials[0]!.configName} to step ${stopAtStep} as ${submission.description}`);
    const follower = new BatchFollower({
      submission,
      trials,
      sweepDir,
      previous,
      view,
      retries: this.options.retries,
      statusPollMs: this.options.statusPollMs,
      queuePollMs: this.options.queuePollMs,
      orphanGraceMs: this.options.orphanGraceMs,
    });
    this.followers.add(follower);
    let outcome: Awaited<ReturnType<BatchFollower['run']>>;
    try {
      outcome = await follower.run();
    } finally {
      this.followers.delete(follower);
    }
    const stateOf = (name: string): TrialSegmentResult['state'] => {
      for (const state of ['paused', 'done', 'failed', 'notStarted'] as const) if (outcome[state].includes(name)) return state;
      return 'interrupted';
    };
    const results: TrialSegmentResult[] = [];
    for (const trial of trials) {
      const state = stateOf(trial.name);
      const dir = path.join(sweepDir, trial.name);
      const status = state === 'paused' || state === 'done' ? await readStatus(dir, () => {}) : undefined;
      results.push({ trial, state, value: status ? metricAtStep(dir, status, spec.metric.name, Math.min(stopAtStep, trial.config.steps)) : null });
    }
    return results;
  }

  markStopped(trials: readonly Trial[], step: number): Promise<void> {
    return markStopped(this.options.sweepDir, trials, step, this.options.view);
  }

  /** A Ctrl-C: the jobs are cancelled (their running trials save a snapshot and stop); a second one stops following them. */
  stopAll(now: boolean): void {
    for (const follower of this.followers) {
      if (now) follower.leave();
      else void follower.cancel();
    }
  }
}
