/**
 * A sweep's trials as child processes of this one (a TrialExecutor), `concurrency` at
 * a time (p-limit), each run by runTrial (retries, resume, status.json); Ctrl-C asks
 * the running ones to save a snapshot and stop, a second one stops them at once.
 */
import * as path from 'node:path';
import pLimit from 'p-limit';
import type { Trial } from './expand.js';
import type { RunningTrial, TrialExecutor } from './executor.js';
import type { SweepView } from './progress-view.js';
import type { SweepPlan } from './sweep-plan.js';
import { type TrialsOutcome, plural } from './sweep-outcome.js';
import { emptyTrialOutcomes, runTrial, trialControl } from './trial.js';
import type { StopRequests } from '../util/signals.js';

export interface LocalRunOptions {
  sweepName: string;
  sweepDir: string;
  view: SweepView;
  concurrency: number | undefined;
  retries?: number;
}

/** Each trial as a child process of this one, `concurrency` at a time. */
export async function runLocally(options: LocalRunOptions, executor: TrialExecutor, plan: SweepPlan, stops: StopRequests): Promise<TrialsOutcome> {
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
  view.log(`running ${plural(plan.toRun.length, 'trial')} of ${options.sweepName}, ${options.concurrency} at a time, as ${executor.description}; logs in ${sweepDir}/<trial>/`);
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
