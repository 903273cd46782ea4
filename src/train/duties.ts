/**
 * The periodic duties around the training loop, as Stable-Baselines3's callbacks: each
 * says after which steps it is due and what it then does. The loop (trainer.ts) only
 * steps, learns and asks its duties; what to log, when to evaluate and how to save lives
 * here. Duties run in the order they are listed, after the step's learning.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { envSpec } from '../envs/index.js';
import { agentEnv, boundsScaling } from '../envs/scaling.js';
import { canRenderRgb } from '../envs/render-rgb.js';
import { foldObservationScaling } from '../agent/fold-scaling.js';
import type { Weights } from '../agent/learner.js';
import type { EpsilonSchedule } from '../agent/schedules.js';
import type { SummaryWriter } from '../tensorboard/index.js';
import { saveCheckpoint } from './checkpoint.js';
import type { RunConfig } from './config.js';
import type { RunOutput } from './run-output.js';
import { averageMaxQ, evaluate } from './evaluate.js';
import type { ProgressReporter } from './run-messages.js';
import { logPolicyAnimation } from './policy-gif.js';
import { checkpointOf, type LoopState, type RunFactories, type RunParts } from './run-state.js';
import { saveSnapshot } from './snapshot.js';

/** What every duty may read and write. */
export interface RunContext {
  config: RunConfig;
  runDir: string;
  output: RunOutput;
  report: ProgressReporter;
  writer: SummaryWriter;
  parts: RunParts;
  loop: LoopState;
  factories: RunFactories;
}

export interface Duty {
  /** Whether it runs after environment step `step`. */
  due(step: number): boolean;
  run(step: number): void | Promise<void>;
}

const GB = 1024 ** 3;

/** Training returned a non-finite loss or Q-value; the last snapshot stays as the last good policy. */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(
    readonly step: number,
    detail: string,
  ) {
    super(`diverged at step ${step}: ${detail}; try a lower learningRate or a clipNorm`);
  }
}

/** Every logEvery steps: the mean loss, epsilon and speed to TensorBoard, the console and the parent sweep. */
export function intervalLog(context: RunContext, epsilonAt: EpsilonSchedule): Duty {
  const { config, writer, output, report, loop } = context;
  let intervalStart = performance.now();
  let intervalStartStep = loop.step;
  return {
    due: (step) => step % config.logEvery === 0,
    run(step) {
      const now = performance.now();
      const seconds = (now - intervalStart) / 1000;
      const stepsPerSecond = (step - intervalStartStep) / seconds;
      const meanLoss = loop.lossCount > 0 ? loop.lossSum / loop.lossCount : null;
      const rssMb = process.memoryUsage.rss() / 2 ** 20;
      const systemUsedGb = (os.totalmem() - os.freemem()) / GB;
      const epsilon = epsilonAt(step);
      if (meanLoss !== null) writer.scalar('train/loss', meanLoss, step);
      writer.scalar('train/epsilon', epsilon, step);
      writer.scalar('perf/steps_per_second', stepsPerSecond, step);
      writer.scalar('perf/rss_mb', rssMb, step);
      writer.scalar('perf/system_memory_used_gb', systemUsedGb, step);
      output.line(
        `episode ${loop.episode} steps ${loop.lastEpisodeLength}/${step} loss ${(meanLoss ?? NaN).toFixed(7)} return ${(loop.lastEpisodeReturn ?? NaN).toFixed(1)} ` +
          `in ${seconds.toFixed(2)}s ${stepsPerSecond.toFixed(1)} steps/s ${systemUsedGb.toFixed(1)}/${(os.totalmem() / GB).toFixed(1)} GB RAM`,
      );
      report({
        type: 'progress',
        step,
        totalSteps: config.steps,
        stepsPerSecond,
        episodes: loop.episode - 1,
        lastEpisodeReturn: loop.lastEpisodeReturn,
        loss: meanLoss,
      });
      loop.lossSum = 0;
      loop.lossCount = 0;
      intervalStart = now;
      intervalStartStep = step;
    },
  };
}

/** The online network's weights as histograms (weights/dense_<n>/kernel|bias). */
function logWeightHistograms(writer: SummaryWriter, weights: Weights, step: number): void {
  weights.forEach((values, index) => {
    writer.histogram(`weights/dense_${Math.floor(index / 2) + 1}/${index % 2 === 0 ? 'kernel' : 'bias'}`, values, step);
  });
}

/** The fixed replay states whose mean max-Q is eval/avg_max_q; taken once, the first time they are needed. */
export function takeQValidationSet(context: RunContext): void {
  const { parts, config } = context;
  parts.qValidationStates = parts.replay.sampleStates(parts.replayRng, config.qValidationSize);
}

/** Every evalEvery steps from trainStart on: greedy episodes on the eval env, avg max-Q, weights, a GIF. */
export function evaluation(context: RunContext): Duty {
  const { config, writer, output, report, loop, parts, factories } = context;
  const drawsGif = config.evalGif && canRenderRgb(parts.evalEnv);
  if (config.evalGif && !drawsGif) output.line(`eval/policy GIF skipped: ${config.env} has no RGB renderer (renderRgb)`);
  return {
    due: (step) => config.evalEvery > 0 && step >= config.trainStart && step % config.evalEvery === 0,
    run(step) {
      if (!parts.qValidationStates) takeQValidationSet(context);
      const plan = { episodes: config.evalEpisodes, steps: config.evalSteps, epsilon: config.evalEpsilon };
      const bar = output.progress(`evaluation at step ${step}`);
      const result = evaluate(parts.learner, parts.evalEnv, parts.evalRng, plan, bar.update);
      bar.stop();
      const avgMaxQ = averageMaxQ(parts.learner, parts.qValidationStates!, config.qValidationSize);
      if (!Number.isFinite(avgMaxQ)) throw new DivergedError(step, `Q-values are ${avgMaxQ}`);
      loop.evaluations.push({ step, ...result, avgMaxQ });
      loop.lastEvaluatedStep = step;
      writer.scalar('eval/return_mean', result.returnMean, step);
      writer.scalar('eval/return_std', result.returnStd, step);
      writer.scalar('eval/avg_max_q', avgMaxQ, step);
      logWeightHistograms(writer, parts.learner.getWeights('online'), step);
      if (drawsGif) logPolicyAnimation(writer, parts.learner, agentEnv(factories.makeEnv(config.env), config.observationScaling), config.seed, step);
      report({ type: 'evaluation', step, returnMean: result.returnMean, returnStd: result.returnStd, avgMaxQ });
      output.line(`episode ${loop.episode} step ${step} episode_return_avg ${result.returnMean.toFixed(3)} avg_max_q_value ${avgMaxQ.toFixed(3)}`);
    },
  };
}

/** Snapshots take raw observations: a run that scales them folds the scaling into the first layer. */
function snapshotWeights(config: RunConfig, online: Weights): Weights {
  return config.observationScaling === 'bounds' ? foldObservationScaling(online, boundsScaling(envSpec(config.env))) : online;
}

/** Every snapshotEvery steps: the policy network as a TensorFlow.js model in snapshots/step-<N>/. */
export function snapshots(context: RunContext): Duty {
  const { config, runDir, output, loop, parts } = context;
  return {
    due: (step) => config.snapshotEvery > 0 && step % config.snapshotEvery === 0,
    async run(step) {
      const dir = path.join(runDir, 'snapshots', `step-${step}`);
      const { learner } = parts;
      await saveSnapshot(dir, learner.spec, snapshotWeights(config, learner.getWeights('online')), { env: config.env, step, engine: learner.engine, runName: config.name });
      loop.lastSnapshotStep = step;
      output.line(`Saved ${dir}`);
    },
  };
}

/** Every checkpointEvery steps before the last: everything --resume needs, in checkpoints/step-<N>/. */
export function checkpoints(context: RunContext): Duty {
  const { config, runDir, output, writer, loop, parts } = context;
  return {
    due: (step) => config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && step < config.steps,
    async run() {
      // Everything logged up to a checkpoint is on disk before it: a resume never rewrites those points.
      writer.flush({ fsync: true });
      loop.lastCheckpointStep = loop.step;
      const dir = await saveCheckpoint(runDir, checkpointOf(loop, parts));
      output.line(`Checkpoint ${dir}`);
    },
  };
}
