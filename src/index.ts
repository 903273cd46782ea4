/**
 * rlsweep as a library: `import { train, loadPolicy, BaseEnv, checkEnv } from 'rlsweep'`.
 * What a user's code needs and nothing more: the env contract and BaseEnv to write an env,
 * registerEnv / makeEnv / checkEnv to use and check one, `train` to run from a config object,
 * and `loadPolicy` to act with a saved snapshot from another Node program.
 */
import * as path from 'node:path';
import { createLearner, resolveEngine } from './agent/index.js';
import { packageVersion } from './cli/run.js';
import type { QLearner } from './agent/learner.js';
import { EnvError, supportsExactResume } from './envs/index.js';
import { prepareEnv } from './envs/load-env.js';
import { type RunConfig, configWarnings, defaultRunConfig, resolveConfig } from './train/config.js';
import { learnerOptions } from './train/run-state.js';
import { type RunOutput, memoryOutput } from './train/run-output.js';
import { loadSnapshot } from './train/snapshot.js';
import { type TrainResult, prepareRunDir, runBackendLine, train as trainInFolder } from './train/trainer.js';

export type { Env, EnvContract, EnvSnapshot, EnvSpec, EnvStepOutput, ResetOptions, StepResult, StepStatus } from './envs/index.js';
export { BaseEnv, EnvError, envIds, envSpec, makeEnv, registerEnv } from './envs/index.js';
export { prepareEnv } from './envs/load-env.js';
export { checkEnv, formatCheckEnvReport, type CheckEnvOptions, type CheckEnvReport, type EnvFeatures } from './envs/check-env.js';
export { Rng } from './util/random.js';
export { ConfigError, defaultRunConfig, type RunConfig } from './train/config.js';
export type { RunOutput } from './train/run-output.js';

export interface TrainOptions {
  /** Where progress lines go; by default they are kept and returned (`TrainSummary.log`). */
  output?: RunOutput;
  /** Aborting stops the run at the next step, with a checkpoint and a snapshot (resume it with `resume: true`). */
  signal?: AbortSignal;
  /** Replace an existing run of the same name. */
  overwrite?: boolean;
  /** Continue the run in <logdir>/<name> from its latest checkpoint. */
  resume?: boolean;
}

export interface TrainSummary {
  /** The run's folder: config.json, TensorBoard logs, snapshots/, checkpoints/. */
  runDir: string;
  /** The newest snapshot, for loadPolicy. */
  snapshotDir: string;
  stepsDone: number;
  interrupted: boolean;
  episodeReturns: number[];
  evaluations: TrainResult['evaluations'];
  /** What the run printed, when no `output` was given. */
  log: string[];
}

/**
 * Trains one run from a config object (any RunConfig options; the rest take their defaults,
 * checked as the CLI checks them), writing the same run folder the CLI writes.
 */
export async function train(options: Partial<RunConfig>, trainOptions: TrainOptions = {}): Promise<TrainSummary> {
  const resolved = resolveConfig({ values: options as Record<string, unknown>, source: 'train() options' });
  const config: RunConfig = resolved.name ? resolved : { ...resolved, name: `run-${new Date().toISOString().replace(/[:.]/g, '-')}` };
  const memory = memoryOutput();
  const output = trainOptions.output ?? memory;
  for (const warning of configWarnings(config)) output.error(`warning: ${warning}`);
  const spec = await prepareEnv(config.env);
  if (!supportsExactResume(config.env)) output.line(`note: ${config.env} cannot save and restore its state (getState/setState), so this run cannot be resumed exactly`);
  const runDir = path.join(config.logdir, config.name);
  if (!trainOptions.resume) {
    const engineUsed = resolveEngine({ observationSize: spec.observationSize, actionCount: spec.actionCount, hiddenLayers: config.hiddenLayers, activation: config.activation }, config.engine);
    // The same run information as the CLI writes, so the folder is a run like any other.
    const runInfo = { rlsweepVersion: packageVersion, backend: (await runBackendLine(engineUsed)).replace(/^backend: /, ''), engineUsed, startedAt: new Date().toISOString() };
    await prepareRunDir(config, runInfo, trainOptions.overwrite ?? false);
  }
  const result = await trainInFolder(config, { runDir, output, resume: trainOptions.resume ?? false, ...(trainOptions.signal && { signal: trainOptions.signal }) });
  result.learner.dispose();
  return {
    runDir,
    snapshotDir: path.join(runDir, 'snapshots', `step-${result.stepsDone}`),
    stepsDone: result.stepsDone,
    interrupted: result.interrupted,
    episodeReturns: result.episodeReturns,
    evaluations: result.evaluations,
    log: memory.lines,
  };
}

/** A trained Q-network, ready to act. */
export interface Policy {
  readonly observationSize: number;
  readonly actionCount: number;
  /** The env the snapshot was trained on, as its run named it. */
  readonly env: string | undefined;
  /** The greedy action: the index of the largest Q-value. */
  act(observation: ArrayLike<number>): number;
  /** The Q-value of every action. */
  qValues(observation: ArrayLike<number>): Float32Array;
  /** Frees the network (TensorFlow.js tensors when the tfjs engine runs it). */
  dispose(): void;
}

/**
 * A snapshot (its folder or model.json) as a policy. Snapshots take raw observations (a run's
 * observation scaling is folded into the first layer), so no env is needed to act.
 */
export async function loadPolicy(snapshot: string, options: { engine?: RunConfig['engine'] } = {}): Promise<Policy> {
  const loaded = await loadSnapshot(snapshot);
  const { observationSize, actionCount } = loaded.spec;
  const config: RunConfig = { ...defaultRunConfig(), hiddenLayers: [...loaded.spec.hiddenLayers], activation: loaded.spec.activation };
  const learner: QLearner = await createLearner(learnerOptions(config, observationSize, actionCount), options.engine ?? 'auto');
  learner.setWeights('online', loaded.weights);
  const input = new Float32Array(observationSize);
  const toInput = (observation: ArrayLike<number>): Float32Array => {
    if (observation.length !== observationSize) {
      throw new EnvError(`${loaded.modelJsonPath} takes observations of ${observationSize} values, got ${observation.length}`);
    }
    input.set(observation);
    return input;
  };
  return {
    observationSize,
    actionCount,
    env: loaded.metadata.env,
    act: (observation) => learner.greedyAction(toInput(observation)),
    qValues: (observation) => {
      const out = new Float32Array(actionCount);
      learner.qValues(toInput(observation), 1, out);
      return out;
    },
    dispose: () => learner.dispose(),
  };
}
