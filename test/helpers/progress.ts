/** Drives a sweep's progress view from run messages, as a sweep does. */
import type { Trial } from '../../src/sweep/expand.js';
import type { SweepProgress } from '../../src/sweep/progress-view.js';
import { applyRunMessage, type TrialProgress } from '../../src/sweep/trial-status.js';
import type { RunProgressMessage } from '../../src/train/run-messages.js';

/** Folds run messages into each trial's progress, as a sweep does, and hands it to the view's state. */
export function reporter(progress: SweepProgress): (trial: Trial, message: RunProgressMessage) => void {
  const reported = new Map<string, TrialProgress>();
  return (trial, message) => {
    const state = reported.get(trial.name) ?? { step: 0, totalSteps: trial.config.steps, stepsPerSecond: null, lastEvaluation: null, finalReturnMean: null, bestReturnMean: null };
    applyRunMessage(state, message);
    reported.set(trial.name, state);
    progress.update(trial, state);
  };
}
