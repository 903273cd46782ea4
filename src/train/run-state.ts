/**
 * What a training run is made of and what it carries from step to step: the envs, the
 * learner, the replay buffer and the random streams (RunParts), and the loop's own
 * counters (LoopState). A checkpoint is exactly these two; `checkpointOf` and
 * `restoreCheckpoint` are the one place that maps them to a checkpoint's named arrays.
 */
import { makeEnv, type Env, type EnvSnapshot } from '../envs/index.js';
import { agentEnv } from '../envs/scaling.js';
import { createLearner } from '../agent/index.js';
import type { LearnerOptions, QLearner, Weights } from '../agent/learner.js';
import { ReplayBuffer } from '../agent/replay-buffer.js';
import { Rng, deriveSeed } from '../util/random.js';
import { CheckpointError, type CheckpointContent } from './checkpoint.js';
import type { RunConfig } from './config.js';
import type { EvaluationResult } from './evaluate.js';

export type EvaluationRecord = { step: number; avgMaxQ: number } & EvaluationResult;

/** Everything the loop itself keeps between steps (the parts keep the rest). JSON-safe. */
export interface LoopState {
  step: number;
  episode: number;
  episodeReturn: number;
  episodeLength: number;
  lastEpisodeReturn: number | null;
  lastEpisodeLength: number;
  lossSum: number;
  lossCount: number;
  lastEvaluatedStep: number;
  lastSnapshotStep: number;
  lastCheckpointStep: number;
  episodeReturns: number[];
  evaluations: EvaluationRecord[];
}

export function initialLoopState(): LoopState {
  return {
    step: 0,
    episode: 1,
    episodeReturn: 0,
    episodeLength: 0,
    lastEpisodeReturn: null,
    lastEpisodeLength: 0,
    lossSum: 0,
    lossCount: 0,
    lastEvaluatedStep: -1,
    lastSnapshotStep: -1,
    lastCheckpointStep: -1,
    episodeReturns: [],
    evaluations: [],
  };
}

/** The parts of a run that change as it trains. */
export interface RunParts {
  env: Env;
  evalEnv: Env;
  learner: QLearner;
  replay: ReplayBuffer;
  exploreRng: Rng;
  replayRng: Rng;
  evalRng: Rng;
  observation: Float32Array;
  qValidationStates: Float32Array | undefined;
}

/** What a run builds its parts with; the defaults are the env registry and the engine selection. */
export interface RunFactories {
  makeEnv: (id: string) => Env;
  createLearner: (options: LearnerOptions, engine: RunConfig['engine']) => Promise<QLearner>;
}

export const DEFAULT_FACTORIES: RunFactories = { makeEnv, createLearner };

export function learnerOptions(config: RunConfig, observationSize: number, actionCount: number): LearnerOptions {
  return {
    observationSize,
    actionCount,
    hiddenLayers: config.hiddenLayers,
    activation: config.activation,
    learningRate: config.learningRate,
    gamma: config.gamma,
    loss: config.loss,
    doubleDqn: config.doubleDqn,
    clipNorm: config.clipNorm,
    clipGlobalNorm: config.clipGlobalNorm,
    // Keras' Adam defaults, which the tutorial used.
    adamBeta1: 0.9,
    adamBeta2: 0.999,
    adamEpsilon: 1e-7,
    initSeed: deriveSeed(config.seed, 'init'),
    weightInit: config.weightInit,
  };
}

/** The parts of a fresh run, every random stream derived from the config's seed. */
export async function createRunParts(config: RunConfig, factories: RunFactories): Promise<RunParts> {
  const env = agentEnv(factories.makeEnv(config.env), config.observationScaling);
  const evalEnv = agentEnv(factories.makeEnv(config.env), config.observationScaling);
  const learner = await factories.createLearner(learnerOptions(config, env.observationSize, env.actionCount), config.engine);
  evalEnv.reset({ seed: deriveSeed(config.seed, 'eval-env') });
  return {
    env,
    evalEnv,
    learner,
    replay: new ReplayBuffer(config.bufferSize, env.observationSize),
    exploreRng: new Rng(deriveSeed(config.seed, 'explore')),
    replayRng: new Rng(deriveSeed(config.seed, 'replay')),
    evalRng: new Rng(deriveSeed(config.seed, 'eval')),
    observation: env.reset({ seed: deriveSeed(config.seed, 'env') }),
    qValidationStates: undefined,
  };
}

/** The JSON half of a checkpoint. */
interface CheckpointState {
  loop: LoopState;
  env: EnvSnapshot;
  evalEnv: EnvSnapshot;
  rngs: Record<'explore' | 'replay' | 'eval', number[]>;
  replay: { nextIndex: number; storedCount: number };
  optimizerIterations: number;
  weightCount: number;
}

const REPLAY_ARRAYS = ['states', 'nextStates', 'actions', 'rewards', 'terminals'] as const;

/** The names of a checkpoint's binary arrays, in one place for writing and reading. */
const ArrayName = {
  observation: 'observation',
  qValidation: 'qValidation',
  replay: (name: (typeof REPLAY_ARRAYS)[number]) => `replay.${name}`,
  online: (layer: number) => `online.${layer}`,
  target: (layer: number) => `target.${layer}`,
  adamFirst: (layer: number) => `adam.m.${layer}`,
  adamSecond: (layer: number) => `adam.v.${layer}`,
} as const;

export function checkpointOf(loop: LoopState, parts: RunParts): CheckpointContent {
  const replay = parts.replay.exportState();
  const optimizer = parts.learner.getOptimizerState();
  const online = parts.learner.getWeights('online');
  const arrays: CheckpointContent['arrays'] = { [ArrayName.observation]: parts.observation };
  for (const name of REPLAY_ARRAYS) arrays[ArrayName.replay(name)] = replay.arrays[name]!;
  online.forEach((w, i) => {
    arrays[ArrayName.online(i)] = w;
  });
  parts.learner.getWeights('target').forEach((w, i) => {
    arrays[ArrayName.target(i)] = w;
  });
  optimizer.firstMoments.forEach((m, i) => {
    arrays[ArrayName.adamFirst(i)] = m;
  });
  optimizer.secondMoments.forEach((v, i) => {
    arrays[ArrayName.adamSecond(i)] = v;
  });
  if (parts.qValidationStates) arrays[ArrayName.qValidation] = parts.qValidationStates;
  const state: CheckpointState = {
    loop,
    env: parts.env.getState(),
    evalEnv: parts.evalEnv.getState(),
    rngs: { explore: parts.exploreRng.getState(), replay: parts.replayRng.getState(), eval: parts.evalRng.getState() },
    replay: { nextIndex: replay.nextIndex, storedCount: replay.storedCount },
    optimizerIterations: optimizer.iterations,
    weightCount: online.length,
  };
  return { step: loop.step, state: { ...state }, arrays };
}

/** Puts a checkpoint back into `parts` and returns its loop state; a missing piece is a CheckpointError naming it. */
export function restoreCheckpoint(content: CheckpointContent, parts: RunParts): LoopState {
  const state = content.state as Partial<CheckpointState>;
  for (const key of ['loop', 'env', 'evalEnv', 'rngs', 'replay', 'optimizerIterations', 'weightCount'] as const) {
    if (state[key] === undefined) throw new CheckpointError(`checkpoint at step ${content.step} has no "${key}" in its state; it was not written by this version of rlsweep`);
  }
  const { loop, env, evalEnv, rngs, replay, optimizerIterations, weightCount } = state as CheckpointState;
  const array = (name: string): Float32Array | Int32Array => {
    const found = content.arrays[name];
    if (!found) throw new CheckpointError(`checkpoint at step ${content.step} has no array "${name}"`);
    return found;
  };
  const float = (name: string): Float32Array => {
    const found = array(name);
    if (!(found instanceof Float32Array)) throw new CheckpointError(`checkpoint at step ${content.step}: array "${name}" is not float32`);
    return found;
  };
  const layers = (name: (layer: number) => string): Weights => Array.from({ length: weightCount }, (_, i) => float(name(i)));
  parts.env.setState(env);
  parts.evalEnv.setState(evalEnv);
  parts.exploreRng.setState(rngs.explore);
  parts.replayRng.setState(rngs.replay);
  parts.evalRng.setState(rngs.eval);
  const replayArrays: Record<string, Float32Array | Int32Array> = {};
  for (const name of REPLAY_ARRAYS) replayArrays[name] = array(ArrayName.replay(name));
  parts.replay.importState({ ...replay, arrays: replayArrays });
  parts.learner.setWeights('online', layers(ArrayName.online));
  parts.learner.setWeights('target', layers(ArrayName.target));
  parts.learner.setOptimizerState({ iterations: optimizerIterations, firstMoments: layers(ArrayName.adamFirst), secondMoments: layers(ArrayName.adamSecond) });
  parts.observation = float(ArrayName.observation);
  parts.qValidationStates = content.arrays[ArrayName.qValidation] ? float(ArrayName.qValidation) : undefined;
  return loop;
}
