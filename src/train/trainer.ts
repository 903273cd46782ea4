/**
 * One DQN training run, top to bottom: the loop wires the environment, the replay
 * buffer, the Q-learner and the logger; each of those is small and tested alone.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { makeEnv } from '../envs/index.js';
import { createLearner } from '../agent/index.js';
import type { LearnerOptions, QLearner } from '../agent/learner.js';
import { ReplayBuffer } from '../agent/replay-buffer.js';
import { epsilonSchedule } from '../agent/schedules.js';
import { SummaryWriter } from '../tensorboard/index.js';
import { Rng, deriveSeed } from '../util/random.js';
import { backendLine } from '../tf.js';
import { type RunConfig, configToHparams, configToMarkdown } from './config.js';
import { averageMaxQ, epsilonGreedy, evaluate, type EvaluationResult } from './evaluate.js';
import { saveSnapshot } from './snapshot.js';
import type { RunOutput } from './console.js';
import { modelSummary } from './summary.js';
import type { ProgressReporter } from './progress.js';

export interface TrainOptions {
  /** The run's folder; it must exist and hold config.json already. */
  runDir: string;
  output: RunOutput;
  /** Aborting stops training at the next step: a snapshot is saved and the logs flushed. */
  signal?: AbortSignal;
  /** Receives progress (a sweep's child sends it to the parent over IPC). */
  report?: ProgressReporter;
}

export interface TrainResult {
  stepsDone: number;
  interrupted: boolean;
  episodeReturns: number[];
  evaluations: Array<{ step: number } & EvaluationResult & { avgMaxQ: number }>;
  lastSnapshot: string | undefined;
  learner: QLearner;
}

/** How long the synchronous loop may run before yielding, so signals and log flushes get through. */
const YIELD_EVERY_MS = 50;

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
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const GB = 1024 ** 3;

export async function train(config: RunConfig, options: TrainOptions): Promise<TrainResult> {
  const { runDir, output, signal } = options;
  const report: ProgressReporter = options.report ?? (() => {});
  const env = makeEnv(config.env);
  const evalEnv = makeEnv(config.env);
  const learner = await createLearner(learnerOptions(config, env.observationSize, env.actionCount), config.engine);
  const replay = new ReplayBuffer(config.bufferSize, env.observationSize);
  const batch = replay.allocateBatch(config.batchSize);
  const epsilonAt = epsilonSchedule(config);
  const exploreRng = new Rng(deriveSeed(config.seed, 'explore'));
  const replayRng = new Rng(deriveSeed(config.seed, 'replay'));
  const evalRng = new Rng(deriveSeed(config.seed, 'eval'));

  output.line(await backendLine());
  output.line(`engine: ${learner.engine}`);
  output.line(modelSummary(learner.spec));
  report({ type: 'started', runDir, totalSteps: config.steps, engine: learner.engine });

  const writer = new SummaryWriter(runDir);
  writer.text('config', configToMarkdown(config), 0);
  writer.hparamsSessionStart(configToHparams(config), { groupName: config.name });

  const snapshotsDir = path.join(runDir, 'snapshots');
  let lastSnapshot: string | undefined;
  const snapshot = async (step: number): Promise<void> => {
    const dir = path.join(snapshotsDir, `step-${step}`);
    await saveSnapshot(dir, learner.spec, learner.getWeights('online'), { env: config.env, step, engine: learner.engine, runName: config.name });
    lastSnapshot = dir;
    output.line(`Saved ${dir}`);
  };

  let qValidationStates: Float32Array | undefined;
  let qValidationCount = 0;
  const takeQValidationSet = (): void => {
    qValidationCount = config.qValidationSize;
    qValidationStates = replay.sampleStates(replayRng, qValidationCount);
  };

  const evaluations: TrainResult['evaluations'] = [];
  const runEvaluation = (step: number, episode: number): void => {
    if (!qValidationStates) takeQValidationSet();
    const plan = { episodes: config.evalEpisodes, steps: config.evalSteps, epsilon: config.evalEpsilon };
    const bar = output.progress(`evaluation at step ${step}`);
    const result = evaluate(learner, evalEnv, evalRng, plan, bar.update);
    bar.stop();
    const avgMaxQ = averageMaxQ(learner, qValidationStates!, qValidationCount);
    evaluations.push({ step, ...result, avgMaxQ });
    report({ type: 'evaluation', step, returnMean: result.returnMean, returnStd: result.returnStd, avgMaxQ });
    writer.scalar('eval/return_mean', result.returnMean, step);
    writer.scalar('eval/return_std', result.returnStd, step);
    writer.scalar('eval/avg_max_q', avgMaxQ, step);
    output.line(`episode ${episode} step ${step} episode_return_avg ${result.returnMean.toFixed(3)} avg_max_q_value ${avgMaxQ.toFixed(3)}`);
  };

  evalEnv.reset({ seed: deriveSeed(config.seed, 'eval-env') });
  let observation = env.reset({ seed: deriveSeed(config.seed, 'env') });
  let episode = 1;
  let episodeReturn = 0;
  let episodeLength = 0;
  let lastEpisodeReturn = NaN;
  let lastEpisodeLength = 0;
  const episodeReturns: number[] = [];
  let lossSum = 0;
  let lossCount = 0;
  let lastLoss = NaN;
  let intervalStart = performance.now();
  let intervalStartStep = 0;
  let lastYield = performance.now();
  let lastEvaluatedStep = -1;
  let lastSnapshotStep = -1;
  let step = 0;

  try {
    while (step < config.steps) {
      if (signal?.aborted) break;
      step++;

      // Act and store the transition.
      const epsilon = epsilonAt(step);
      const action = epsilonGreedy(learner, observation, epsilon, env.actionCount, exploreRng);
      const { observation: nextObservation, reward, terminated, truncated } = env.step(action);
      // A time-limit cut is not a terminal state: bootstrap through it unless asked not to.
      replay.add(observation, action, reward, nextObservation, terminated || (truncated && config.terminalOnTruncation));
      episodeReturn += reward;
      episodeLength++;
      observation = nextObservation;

      if (terminated || truncated) {
        writer.scalar('train/episode_return', episodeReturn, step);
        writer.scalar('train/episode_length', episodeLength, step);
        episodeReturns.push(episodeReturn);
        lastEpisodeReturn = episodeReturn;
        lastEpisodeLength = episodeLength;
        episode++;
        episodeReturn = 0;
        episodeLength = 0;
        observation = env.reset();
      }

      // Learn.
      if (step >= config.trainStart && replay.size >= config.batchSize) {
        if (step % config.trainFrequency === 0) {
          for (let g = 0; g < config.gradientSteps; g++) {
            lastLoss = learner.trainStep(replay.sample(replayRng, batch));
            lossSum += lastLoss;
            lossCount++;
          }
        }
        if (step % config.targetUpdateEvery === 0) learner.updateTarget(config.tau);
      }
      if (step === config.qValidationSize && !qValidationStates) takeQValidationSet();

      // Report.
      if (step % config.logEvery === 0) {
        const now = performance.now();
        const seconds = (now - intervalStart) / 1000;
        const stepsPerSecond = (step - intervalStartStep) / seconds;
        const meanLoss = lossCount > 0 ? lossSum / lossCount : NaN;
        const rssMb = process.memoryUsage.rss() / 2 ** 20;
        const systemUsedGb = (os.totalmem() - os.freemem()) / GB;
        if (lossCount > 0) writer.scalar('train/loss', meanLoss, step);
        writer.scalar('train/epsilon', epsilon, step);
        writer.scalar('perf/steps_per_second', stepsPerSecond, step);
        writer.scalar('perf/rss_mb', rssMb, step);
        writer.scalar('perf/system_memory_used_gb', systemUsedGb, step);
        output.line(`episode ${episode} steps ${lastEpisodeLength}/${step} loss ${meanLoss.toFixed(7)} return ${lastEpisodeReturn.toFixed(1)} `
          + `in ${seconds.toFixed(2)}s ${stepsPerSecond.toFixed(1)} steps/s ${systemUsedGb.toFixed(1)}/${(os.totalmem() / GB).toFixed(1)} GB RAM`);
        report({
          type: 'progress', step, totalSteps: config.steps, stepsPerSecond, episodes: episode - 1,
          lastEpisodeReturn: Number.isNaN(lastEpisodeReturn) ? null : lastEpisodeReturn, loss: lossCount > 0 ? meanLoss : null,
        });
        lossSum = 0;
        lossCount = 0;
        intervalStart = now;
        intervalStartStep = step;
      }
      if (config.evalEvery > 0 && step >= config.trainStart && step % config.evalEvery === 0) {
        runEvaluation(step, episode);
        lastEvaluatedStep = step;
      }
      if (config.snapshotEvery > 0 && step % config.snapshotEvery === 0) {
        await snapshot(step);
        lastSnapshotStep = step;
      }

      if (!Number.isFinite(lastLoss) && lossCount > 0) {
        throw new Error(`training diverged at step ${step}: loss is ${lastLoss}; try a lower learningRate or clipNorm`);
      }
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }

    const interrupted = step < config.steps;
    if (!interrupted && lastEvaluatedStep !== step && step > 0) runEvaluation(step, episode);
    if (lastSnapshotStep !== step && step > 0) await snapshot(step);
    if (interrupted) output.line(`Interrupted at step ${step}; snapshot saved, logs flushed.`);
    // TensorBoard has no 'interrupted' status; 'unknown' keeps it apart from success and failure.
    writer.hparamsSessionEnd(interrupted ? 'unknown' : 'success');
    const returnMeans = evaluations.map((e) => e.returnMean);
    report({
      type: 'finished', step, totalSteps: config.steps, interrupted,
      finalReturnMean: returnMeans.at(-1) ?? null, bestReturnMean: returnMeans.length > 0 ? Math.max(...returnMeans) : null,
    });
    return { stepsDone: step, interrupted, episodeReturns, evaluations, lastSnapshot, learner };
  } catch (error) {
    writer.hparamsSessionEnd('failure');
    throw error;
  } finally {
    writer.close();
  }
}

/** Make the run folder and write config.json (the resolved config plus how it ran). */
export async function prepareRunDir(config: RunConfig, runInfo: Record<string, string>, overwrite: boolean): Promise<string> {
  const runDir = path.join(config.logdir, config.name);
  const configPath = path.join(runDir, 'config.json');
  const exists = await fs.access(configPath).then(() => true, () => false);
  if (exists && !overwrite) {
    throw new Error(`${runDir} already holds a run (${configPath}); choose another --name, or pass --overwrite to replace it`);
  }
  if (exists) await fs.rm(runDir, { recursive: true, force: true });
  try {
    await fs.mkdir(runDir, { recursive: true });
    const temporary = `${configPath}.tmp-${process.pid}`;
    await fs.writeFile(temporary, JSON.stringify({ ...config, ...runInfo }, null, 2) + '\n');
    await fs.rename(temporary, configPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot write the run folder ${runDir} (${code ?? (error as Error).message}); check that ${config.logdir} is writable or pass --logdir`);
  }
  return runDir;
}
