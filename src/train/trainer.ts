/**
 * One DQN training run, top to bottom: the loop wires the environment, the replay
 * buffer, the Q-learner and the logger; each of those is small and tested alone.
 * All the loop's own state lives in one `LoopState`, so a checkpoint can save it and a
 * resumed run continues bit-identically.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { envSpec, makeEnv, type Env, type EnvSnapshot } from '../envs/index.js';
import { agentEnv, boundsScaling } from '../envs/scaling.js';
import { foldObservationScaling } from '../agent/fold-scaling.js';
import { createLearner } from '../agent/index.js';
import type { LearnerOptions, QLearner, Weights } from '../agent/learner.js';
import { ReplayBuffer } from '../agent/replay-buffer.js';
import { epsilonSchedule, learningRateSchedule } from '../agent/schedules.js';
import { SummaryWriter } from '../tensorboard/index.js';
import { Rng, deriveSeed } from '../util/random.js';
import { type RunConfig, configToHparams, configToMarkdown } from './config.js';
import { averageMaxQ, epsilonGreedy, evaluate, type EvaluationResult } from './evaluate.js';
import { saveSnapshot } from './snapshot.js';
import { logPolicyAnimation } from './record.js';
import { type CheckpointContent, loadLatestCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { RunOutput } from './console.js';
import { modelSummary } from './summary.js';
import type { ProgressReporter } from './progress.js';
import { describeFsError, ensureDir, writeFileAtomic } from '../util/files.js';
import { maxOf } from '../util/extent.js';

export interface TrainOptions {
  /** The run's folder; it must exist and hold config.json already. */
  runDir: string;
  output: RunOutput;
  /** Aborting stops training at the next step: a checkpoint and a snapshot are saved and the logs flushed. */
  signal?: AbortSignal;
  /** Receives progress (a sweep's child sends it to the parent over IPC). */
  report?: ProgressReporter;
  /** Continue from the run folder's latest intact checkpoint (from scratch when there is none). */
  resume?: boolean;
}

export type EvaluationRecord = { step: number; avgMaxQ: number } & EvaluationResult;

export interface TrainResult {
  stepsDone: number;
  interrupted: boolean;
  /** The step this invocation started from (0, or the checkpoint's step when resuming). */
  resumedFrom: number;
  episodeReturns: number[];
  evaluations: EvaluationRecord[];
  learner: QLearner;
}

/** Everything the loop itself keeps between steps (the components keep the rest). JSON-safe. */
interface LoopState {
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

function initialLoopState(): LoopState {
  return {
    step: 0, episode: 1, episodeReturn: 0, episodeLength: 0, lastEpisodeReturn: null, lastEpisodeLength: 0,
    lossSum: 0, lossCount: 0, lastEvaluatedStep: -1, lastSnapshotStep: -1, lastCheckpointStep: -1,
    episodeReturns: [], evaluations: [],
  };
}

/** The parts of a run that change as it trains. */
interface RunComponents {
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

/** How long the synchronous loop may run before yielding, so signals and log flushes get through. */
const YIELD_EVERY_MS = 50;
const GB = 1024 ** 3;

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

/**
 * The start-up line that says what computes. The fused engine needs no TensorFlow.js, so
 * it is not loaded then (it costs ~90 MB and half a second per process, per sweep trial).
 */
export async function runBackendLine(engine: 'fused' | 'tfjs'): Promise<string> {
  if (engine === 'fused') return 'backend: fused engine (plain JavaScript; TensorFlow.js not loaded)';
  const { backendLine } = await import('../tf.js');
  return backendLine();
}

/** The online network's weights as histograms (weights/dense_<n>/kernel|bias), at each evaluation. */
function logWeightHistograms(writer: SummaryWriter, weights: Weights, step: number): void {
  weights.forEach((values, index) => {
    writer.histogram(`weights/dense_${Math.floor(index / 2) + 1}/${index % 2 === 0 ? 'kernel' : 'bias'}`, values, step);
  });
}

/** Snapshots take raw observations: a run that scales them folds the scaling into the first layer. */
function snapshotWeights(config: RunConfig, online: Weights): Weights {
  return config.observationScaling === 'bounds' ? foldObservationScaling(online, boundsScaling(envSpec(config.env))) : online;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function createComponents(config: RunConfig): Promise<RunComponents> {
  const env = agentEnv(makeEnv(config.env), config.observationScaling);
  const evalEnv = agentEnv(makeEnv(config.env), config.observationScaling);
  const learner = await createLearner(learnerOptions(config, env.observationSize, env.actionCount), config.engine);
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

function checkpointContent(loop: LoopState, parts: RunComponents): CheckpointContent {
  const replay = parts.replay.exportState();
  const optimizer = parts.learner.getOptimizerState();
  const arrays: CheckpointContent['arrays'] = { observation: parts.observation };
  for (const [name, array] of Object.entries(replay.arrays)) arrays[`replay.${name}`] = array;
  parts.learner.getWeights('online').forEach((w, i) => { arrays[`online.${i}`] = w; });
  parts.learner.getWeights('target').forEach((w, i) => { arrays[`target.${i}`] = w; });
  optimizer.firstMoments.forEach((m, i) => { arrays[`adam.m.${i}`] = m; });
  optimizer.secondMoments.forEach((v, i) => { arrays[`adam.v.${i}`] = v; });
  if (parts.qValidationStates) arrays.qValidation = parts.qValidationStates;
  return {
    step: loop.step,
    state: {
      loop,
      env: parts.env.getState(),
      evalEnv: parts.evalEnv.getState(),
      rngs: { explore: parts.exploreRng.getState(), replay: parts.replayRng.getState(), eval: parts.evalRng.getState() },
      replay: { nextIndex: replay.nextIndex, storedCount: replay.storedCount },
      optimizerIterations: optimizer.iterations,
      weightCount: parts.learner.getWeights('online').length,
    },
  arrays };
}

function restoreCheckpoint(content: CheckpointContent, parts: RunComponents): LoopState {
  const state = content.state as {
    loop: LoopState; env: EnvSnapshot; evalEnv: EnvSnapshot; rngs: Record<'explore' | 'replay' | 'eval', number[]>;
    replay: { nextIndex: number; storedCount: number }; optimizerIterations: number; weightCount: number;
  };
  const { arrays } = content;
  const float = (name: string): Float32Array => {
    const array = arrays[name];
    if (!(array instanceof Float32Array)) throw new Error(`checkpoint has no float array "${name}"`);
    return array;
  };
  const series = (prefix: string): Float32Array[] => Array.from({ length: state.weightCount }, (_, i) => float(`${prefix}.${i}`));
  parts.env.setState(state.env);
  parts.evalEnv.setState(state.evalEnv);
  parts.exploreRng.setState(state.rngs.explore);
  parts.replayRng.setState(state.rngs.replay);
  parts.evalRng.setState(state.rngs.eval);
  const replayArrays: Record<string, Float32Array | Int32Array> = {};
  for (const name of ['states', 'nextStates', 'actions', 'rewards', 'terminals']) replayArrays[name] = arrays[`replay.${name}`]!;
  parts.replay.importState({ ...state.replay, arrays: replayArrays });
  parts.learner.setWeights('online', series('online'));
  parts.learner.setWeights('target', series('target'));
  parts.learner.setOptimizerState({ iterations: state.optimizerIterations, firstMoments: series('adam.m'), secondMoments: series('adam.v') });
  parts.observation = float('observation');
  parts.qValidationStates = arrays.qValidation ? float('qValidation') : undefined;
  return state.loop;
}

export async function train(config: RunConfig, options: TrainOptions): Promise<TrainResult> {
  const { runDir, output, signal } = options;
  const report: ProgressReporter = options.report ?? (() => {});
  const parts = await createComponents(config);
  const { env, evalEnv, learner, replay, exploreRng, replayRng, evalRng } = parts;
  const batch = replay.allocateBatch(config.batchSize);
  const epsilonAt = epsilonSchedule(config);
  const learningRateAt = learningRateSchedule(config);

  output.line(await runBackendLine(learner.engine));
  output.line(`engine: ${learner.engine}`);
  output.line(modelSummary(learner.spec));

  let loop = initialLoopState();
  if (options.resume) {
    const latest = await loadLatestCheckpoint(runDir);
    for (const message of latest.skipped) output.error(`warning: ${message}`);
    if (latest.found) {
      loop = restoreCheckpoint(latest.found.content, parts);
      output.line(`Resuming from ${latest.found.dir} (step ${loop.step} of ${config.steps})`);
    } else {
      output.line(`No checkpoint in ${runDir}; starting over from step 0`);
    }
  }
  const resumedFrom = loop.step;

  const writer = new SummaryWriter(runDir);
  if (options.resume) {
    // TensorBoard drops the points logged earlier at this step or later, so none shows twice:
    // those a killed process logged after its checkpoint, or all of them when starting over.
    writer.sessionLogStart(resumedFrom === 0 ? 0 : resumedFrom + 1);
  }
  if (resumedFrom === 0) {
    writer.text('config', configToMarkdown(config), 0);
    writer.hparamsSessionStart(configToHparams(config), { groupName: config.group || config.name });
  }
  report({ type: 'started', runDir, totalSteps: config.steps, engine: learner.engine });

  const snapshot = async (step: number): Promise<void> => {
    const dir = path.join(runDir, 'snapshots', `step-${step}`);
    await saveSnapshot(dir, learner.spec, snapshotWeights(config, learner.getWeights('online')), { env: config.env, step, engine: learner.engine, runName: config.name });
    loop.lastSnapshotStep = step;
    output.line(`Saved ${dir}`);
  };
  const checkpoint = async (): Promise<void> => {
    // Everything logged up to a checkpoint is on disk before it: a resume never rewrites those points.
    writer.flush({ fsync: true });
    loop.lastCheckpointStep = loop.step;
    const dir = await saveCheckpoint(runDir, checkpointContent(loop, parts));
    output.line(`Checkpoint ${dir}`);
  };

  const takeQValidationSet = (): void => {
    parts.qValidationStates = replay.sampleStates(replayRng, config.qValidationSize);
  };

  const runEvaluation = (step: number): void => {
    if (!parts.qValidationStates) takeQValidationSet();
    const plan = { episodes: config.evalEpisodes, steps: config.evalSteps, epsilon: config.evalEpsilon };
    const bar = output.progress(`evaluation at step ${step}`);
    const result = evaluate(learner, evalEnv, evalRng, plan, bar.update);
    bar.stop();
    const avgMaxQ = averageMaxQ(learner, parts.qValidationStates!, config.qValidationSize);
    if (!Number.isFinite(avgMaxQ)) throw new DivergedError(step, `Q-values are ${avgMaxQ}`);
    loop.evaluations.push({ step, ...result, avgMaxQ });
    loop.lastEvaluatedStep = step;
    writer.scalar('eval/return_mean', result.returnMean, step);
    writer.scalar('eval/return_std', result.returnStd, step);
    writer.scalar('eval/avg_max_q', avgMaxQ, step);
    logWeightHistograms(writer, learner.getWeights('online'), step);
    if (config.evalGif) logPolicyAnimation(writer, learner, agentEnv(makeEnv(config.env), config.observationScaling), config.seed, step);
    report({ type: 'evaluation', step, returnMean: result.returnMean, returnStd: result.returnStd, avgMaxQ });
    output.line(`episode ${loop.episode} step ${step} episode_return_avg ${result.returnMean.toFixed(3)} avg_max_q_value ${avgMaxQ.toFixed(3)}`);
  };

  let nextObservation: Float32Array = new Float32Array(env.observationSize);
  let intervalStart = performance.now();
  let intervalStartStep = loop.step;
  let lastYield = performance.now();

  try {
    while (loop.step < config.steps) {
      if (signal?.aborted) break;
      const step = ++loop.step;

      // Act and store the transition.
      const epsilon = epsilonAt(step);
      const action = epsilonGreedy(learner, parts.observation, epsilon, env.actionCount, exploreRng);
      const { reward, terminated, truncated } = env.stepInto(action, nextObservation);
      // A time-limit cut is not a terminal state: bootstrap through it unless asked not to.
      replay.add(parts.observation, action, reward, nextObservation, terminated || (truncated && config.terminalOnTruncation));
      loop.episodeReturn += reward;
      loop.episodeLength++;
      // Two observation buffers take turns, so stepping allocates nothing.
      [parts.observation, nextObservation] = [nextObservation, parts.observation];

      if (terminated || truncated) {
        writer.scalar('train/episode_return', loop.episodeReturn, step);
        writer.scalar('train/episode_length', loop.episodeLength, step);
        loop.episodeReturns.push(loop.episodeReturn);
        loop.lastEpisodeReturn = loop.episodeReturn;
        loop.lastEpisodeLength = loop.episodeLength;
        loop.episode++;
        loop.episodeReturn = 0;
        loop.episodeLength = 0;
        env.resetInto(parts.observation);
      }

      // Learn.
      if (step >= config.trainStart && replay.size >= config.batchSize) {
        if (step % config.trainFrequency === 0) {
          if (learningRateAt) learner.setLearningRate(learningRateAt(step));
          for (let g = 0; g < config.gradientSteps; g++) {
            const loss = learner.trainStep(replay.sample(replayRng, batch));
            if (!Number.isFinite(loss)) throw new DivergedError(step, `loss is ${loss}`);
            loop.lossSum += loss;
            loop.lossCount++;
          }
        }
        if (step % config.targetUpdateEvery === 0) learner.updateTarget(config.tau);
      }
      if (step === config.qValidationSize && !parts.qValidationStates) takeQValidationSet();

      // Report.
      if (step % config.logEvery === 0) {
        const now = performance.now();
        const seconds = (now - intervalStart) / 1000;
        const stepsPerSecond = (step - intervalStartStep) / seconds;
        const meanLoss = loop.lossCount > 0 ? loop.lossSum / loop.lossCount : null;
        const rssMb = process.memoryUsage.rss() / 2 ** 20;
        const systemUsedGb = (os.totalmem() - os.freemem()) / GB;
        if (meanLoss !== null) writer.scalar('train/loss', meanLoss, step);
        writer.scalar('train/epsilon', epsilon, step);
        writer.scalar('perf/steps_per_second', stepsPerSecond, step);
        writer.scalar('perf/rss_mb', rssMb, step);
        writer.scalar('perf/system_memory_used_gb', systemUsedGb, step);
        output.line(`episode ${loop.episode} steps ${loop.lastEpisodeLength}/${step} loss ${(meanLoss ?? NaN).toFixed(7)} return ${(loop.lastEpisodeReturn ?? NaN).toFixed(1)} `
          + `in ${seconds.toFixed(2)}s ${stepsPerSecond.toFixed(1)} steps/s ${systemUsedGb.toFixed(1)}/${(os.totalmem() / GB).toFixed(1)} GB RAM`);
        report({
          type: 'progress', step, totalSteps: config.steps, stepsPerSecond, episodes: loop.episode - 1,
          lastEpisodeReturn: loop.lastEpisodeReturn, loss: meanLoss,
        });
        loop.lossSum = 0;
        loop.lossCount = 0;
        intervalStart = now;
        intervalStartStep = step;
      }
      if (config.evalEvery > 0 && step >= config.trainStart && step % config.evalEvery === 0) runEvaluation(step);
      if (config.snapshotEvery > 0 && step % config.snapshotEvery === 0) await snapshot(step);
      if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && step < config.steps) await checkpoint();

      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
        writer.throwIfFailed();
      }
    }

    const interrupted = loop.step < config.steps;
    if (!interrupted && loop.lastEvaluatedStep !== loop.step && loop.step > 0) runEvaluation(loop.step);
    if (loop.lastSnapshotStep !== loop.step && loop.step > 0) await snapshot(loop.step);
    if (interrupted) {
      if (loop.lastCheckpointStep !== loop.step) await checkpoint();
      output.line(`Interrupted at step ${loop.step}; checkpoint and snapshot saved, logs flushed. Continue with --resume ${runDir}`);
    }
    // TensorBoard has no 'interrupted' status; 'unknown' keeps it apart from success and failure.
    writer.hparamsSessionEnd(interrupted ? 'unknown' : 'success');
    const returnMeans = loop.evaluations.map((e) => e.returnMean);
    report({
      type: 'finished', step: loop.step, totalSteps: config.steps, interrupted,
      finalReturnMean: returnMeans.at(-1) ?? null, bestReturnMean: returnMeans.length > 0 ? maxOf(returnMeans) : null,
    });
    return {
      stepsDone: loop.step, interrupted, resumedFrom, episodeReturns: loop.episodeReturns, evaluations: loop.evaluations, learner,
    };
  } catch (error) {
    if (error instanceof DivergedError) report({ type: 'failed', step: error.step, reason: error.message });
    try {
      writer.hparamsSessionEnd('failure');
      writer.close();
    } catch {
      // The log itself may be what failed (a full disk); the first error is the one to report.
    }
    throw error;
  } finally {
    if (!writer.closed) writer.close();
  }
}

/** Training produced a non-finite loss or Q-value; the last snapshot stays as the last good policy. */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(readonly step: number, detail: string) {
    super(`diverged at step ${step}: ${detail}; try a lower learningRate or a clipNorm`);
  }
}

/** Make the run folder and write config.json (the resolved config plus how it ran). */
export async function prepareRunDir(config: RunConfig, runInfo: Record<string, string>, overwrite: boolean): Promise<string> {
  const runDir = path.join(config.logdir, config.name);
  const configPath = path.join(runDir, 'config.json');
  const exists = await fs.access(configPath).then(() => true, () => false);
  if (exists && !overwrite) {
    throw new Error(`${runDir} already holds a run (${configPath}); continue it with --resume ${runDir}, choose another --name, or pass --overwrite to replace it`);
  }
  if (exists) await fs.rm(runDir, { recursive: true, force: true });
  try {
    await ensureDir(runDir);
    await writeFileAtomic(configPath, JSON.stringify({ ...config, ...runInfo }, null, 2) + '\n');
  } catch (error) {
    throw new Error(`cannot write the run folder ${runDir} (${describeFsError(error)}); check that ${config.logdir} is writable or pass --logdir`);
  }
  return runDir;
}
