/**
 * SegmentRunners of the adaptive controller. LocalSegmentRunner runs each trial of a
 * configuration to its next rung as a child process of this one (runTrial with
 * stopAtStep: the run checkpoints at the rung and exits paused; the next segment resumes
 * from there), at most `concurrency` trials at once over all configurations. The rung's
 * metric is read from what the run logged at that step.
 */
import * as path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { scanRun } from '../tensorboard/index.js';
import type { StopRequests } from '../util/signals.js';
import type { SegmentRunner, TrialSegmentResult } from './adaptive.js';
import type { Trial } from './expand.js';
import type { RunningTrial, TrialExecutor } from './executor.js';
import type { SweepView } from './progress-view.js';
import type { SweepMetricName } from './spec.js';
import { type TrialStatus, readStatus } from './trial-status.js';
import { markTrialStopped, runTrial, trialControl } from './trial.js';

/**
 * The value of `metric` a run logged at `step` (its last one at or before it): the evaluation
 * in status.json when it is that step's eval/return_mean, else from the run's event files; null when none.
 */
export function metricAtStep(trialDir: string, status: TrialStatus, metric: SweepMetricName, step: number): number | null {
  if (metric === 'eval/return_mean' && status.lastEvaluation?.step === step) return status.lastEvaluation.returnMean;
  try {
    const points = scanRun(trialDir, { scalars: new Set([metric]) }).scalars[metric] ?? [];
    const upTo = points.filter((point) => point[0] <= step && Number.isFinite(point[1]));
    return upTo.at(-1)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Marks each trial stopped at its rung (idempotent: a trial stopped already stays as it is) and tells the view. */
export async function markStopped(sweepDir: string, trials: readonly Trial[], step: number, view: Pick<SweepView, 'trialEnded'>): Promise<void> {
  for (const trial of trials) {
    await markTrialStopped(path.join(sweepDir, trial.name), "the sweep's trial scheduler");
    view.trialEnded(trial, 'stopped', `stopped ${trial.name} at step ${step}: its configuration is not among the best at that rung`);
  }
}

export interface LocalSegmentOptions {
  sweepDir: string;
  executor: TrialExecutor;
  metric: SweepMetricName;
  concurrency: number;
  retries: number;
  view: SweepView;
  stops: StopRequests;
}

export class LocalSegmentRunner implements SegmentRunner {
  private readonly limit: LimitFunction;
  /** The runs now running, so a Ctrl-C reaches them. */
  readonly running = new Map<string, RunningTrial>();

  constructor(private readonly options: LocalSegmentOptions) {
    this.limit = pLimit(Math.max(1, options.concurrency));
  }

  run(trials: readonly Trial[], stopAtStep: number): Promise<TrialSegmentResult[]> {
    return Promise.all(trials.map((trial) => this.limit(() => this.runOne(trial, stopAtStep))));
  }

  markStopped(trials: readonly Trial[], step: number): Promise<void> {
    return markStopped(this.options.sweepDir, trials, step, this.options.view);
  }

  stopAll(now: boolean): void {
    for (const handle of this.running.values()) {
      if (now) handle.kill();
      else handle.stop();
    }
  }

  private async runOne(trial: Trial, stopAtStep: number): Promise<TrialSegmentResult> {
    const { sweepDir, view, stops } = this.options;
    const dir = path.join(sweepDir, trial.name);
    const previous = await readStatus(dir, (message) => view.log(`warning: ${message}`));
    const target = Math.min(stopAtStep, trial.config.steps);
    // Reached already (a sweep killed after this seed paused, before its configuration's others did): not run again.
    const reached = previous?.state === 'done' ? trial.config.steps : previous?.state === 'paused' ? (previous.rungStep ?? previous.step) : undefined;
    if (previous && reached === target) return { trial, state: previous.state === 'done' ? 'done' : 'paused', value: metricAtStep(dir, previous, this.options.metric, target) };
    const run = await runTrial({
      trial,
      dir,
      executor: this.options.executor,
      retries: this.options.retries,
      previous,
      restart: false,
      ...(stopAtStep < trial.config.steps ? { stopAtStep } : {}),
      control: trialControl(stops, (handle) => {
        if (handle) this.running.set(trial.name, handle);
        else this.running.delete(trial.name);
      }),
      callbacks: {
        log: (line) => view.log(line),
        started: (attempt) => view.trialStarted(trial, attempt),
        progress: (progress) => view.trialProgress(trial, progress),
        ended: (state, line) => view.trialEnded(trial, state, line),
      },
    });
    const state = run.state === 'paused' || run.state === 'done' || run.state === 'failed' || run.state === 'notStarted' ? run.state : 'interrupted';
    const value = state === 'paused' || state === 'done' ? metricAtStep(dir, run.status, this.options.metric, target) : null;
    return { trial, state, value };
  }
}
