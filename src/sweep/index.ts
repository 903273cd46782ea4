/**
 * Hyperparameter sweeps: a search space is data (spec), expanding it is a pure
 * function (expand), each trial is run by runTrial (trial) through a TrialExecutor
 * (executor: local child processes), scheduled by runSweep (scheduler) here or
 * submitted to a BatchExecutor (slurm: one job array whose tasks run `sweep trial`,
 * followed by follow), and results are grouped over seeds (results). The `sweep`
 * command is src/cli/sweep.ts.
 */
export { loadSweepSpec, parseSweepSpec, SweepSpecError, SWEEP_METRICS, DISTRIBUTIONS } from './spec.js';
export type { Distribution, MetricGoal, Parameter, ParamValue, SweepMethod, SweepSpec } from './spec.js';
export {
  checkTrialCount, countTrials, DEFAULT_TRIAL_LIMIT, expandSweep, experimentHParams, formatNameValue, HARD_TRIAL_LIMIT, sweptParameters,
} from './expand.js';
export type { ExpandOptions, Trial, TrialCount } from './expand.js';
export { isBatchExecutor, LocalExecutor, SINGLE_THREAD_ENV } from './executor.js';
export type {
  BatchExecutor, BatchRequest, BatchSubmission, BatchTaskState, LocalExecutorOptions, RunningTrial, TrialExecutor, TrialExit, TrialLaunch,
} from './executor.js';
export { configDifferences, EXPERIMENT_METRICS, moveAside, runSweep, SweepChangedError } from './scheduler.js';
export type { CancelPrompt, RunSweepOptions, SweepOutcome } from './scheduler.js';
export { runTrial } from './trial.js';
export type { RunTrialOptions, TrialCallbacks, TrialControl, TrialRun } from './trial.js';
export { BatchFollower } from './follow.js';
export { checkSlurmAvailable, SlurmExecutor, SlurmUnavailableError } from './slurm.js';
export type { SlurmJobRecord, SlurmOptions } from './slurm.js';
export { formatSweepStatus } from './sweep-status.js';
export { createView, SweepProgress } from './progress-view.js';
export type { SweepView, ViewOptions } from './progress-view.js';
export { collectResults, formatResults, resultsCsv, summarizeTrials, writeResults } from './results.js';
export type { ConfigurationResult, SweepResults, TrialResult } from './results.js';
export { acquireLock, LOCK_FILE, SweepLockedError } from './lock.js';
export { readManifest, readStatus, writeStatus } from './status.js';
export type { SweepManifest, TrialState, TrialStatus } from './status.js';
