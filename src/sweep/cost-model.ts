/**
 * What a trial costs: the work its configuration implies (environment steps, greedy actions,
 * gradient steps, target updates, evaluations, GIF frames, checkpoints, one process start-up),
 * priced with unit costs measured on this machine (src/sweep/calibrate.ts), and how trials
 * that run `concurrency` at a time share the machine's cores. Pure: `sweep plan`, the live
 * view of `sweep run` and `sweep status` all estimate with these functions.
 */
import { epsilonSchedule } from '../agent/schedules.js';
import { envSpec } from '../envs/index.js';
import { EVAL_GIF_OPTIONS, UNLIMITED_EPISODE_GIF_STEPS, effectiveFrameSkip } from '../train/policy-gif.js';
import type { RunConfig } from '../train/config.js';

/** The options that decide how much work a trial does. */
export type CostConfig = Pick<
  RunConfig,
  | 'steps'
  | 'batchSize'
  | 'bufferSize'
  | 'trainStart'
  | 'trainFrequency'
  | 'gradientSteps'
  | 'targetUpdateEvery'
  | 'epsilonSchedule'
  | 'trainEpsilon'
  | 'epsilonStart'
  | 'epsilonFraction'
  | 'epsilonDecay'
  | 'evalEvery'
  | 'evalSteps'
  | 'evalEpisodes'
  | 'evalEpsilon'
  | 'qValidationSize'
  | 'evalGif'
  | 'checkpointEvery'
  | 'logEvery'
>;

/** What the environment contributes to the work: episode limit and observation width. */
export interface EnvShape {
  maxEpisodeSteps: number;
  observationSize: number;
}

export function envShapeOf(envId: string): EnvShape {
  const { maxEpisodeSteps, observationSize } = envSpec(envId);
  // A module env without a time limit: its GIFs stop at UNLIMITED_EPISODE_GIF_STEPS.
  return { maxEpisodeSteps: Number.isFinite(maxEpisodeSteps) ? maxEpisodeSteps : UNLIMITED_EPISODE_GIF_STEPS, observationSize };
}

/** What a live estimate needs: each trial's unit costs, and how the trials share the cores. */
export interface EtaModel {
  costsOf(config: RunConfig): UnitCosts;
  /** Trials at once. */
  concurrency: number;
  cores: number;
}

/** Seconds of one core per unit of work, for one shape of trial (network, batch, env, engine). */
export interface UnitCosts {
  /** One training-loop step with a random action: env step, replay insert, bookkeeping. */
  envStep: number;
  /** One forward pass for a single observation (greedy action). */
  greedyAction: number;
  /** Sampling a batch and one gradient step on it. */
  gradientStep: number;
  /** One target-network update (copy or Polyak). */
  targetUpdate: number;
  /** Q-values of one state of the Q-validation set, computed in a batch. */
  qValidationState: number;
  /** Drawing and encoding one frame of the eval/policy GIF. */
  gifFrame: number;
  /** Writing one byte of a checkpoint (encode, hash, write, fsync). */
  checkpointByte: number;
  /** Starting the trial's process and shutting it down (Node, tsx, imports, run folder). */
  startup: number;
  /**
   * How many times slower the trial goes with another trial on the next core (>= 1): they
   * share caches and execution units. 1 when not measured.
   */
  neighbourSlowdown: number;
}

/** Counts of work for a range of steps of one trial. */
export interface TrialWork {
  envSteps: number;
  greedyActions: number;
  gradientSteps: number;
  targetUpdates: number;
  evaluations: number;
  /** Environment steps of evaluations (an upper bound: episodes last their time limit). */
  evalSteps: number;
  /** Of those, the steps that take a greedy action (1 - evalEpsilon of them). */
  evalGreedyActions: number;
  qValidationStates: number;
  gifFrames: number;
  checkpoints: number;
  checkpointBytes: number;
  startups: number;
}

/** Multiples of `every` in [from, to] (0 when every < 1 or the range is empty). */
export function multiplesIn(from: number, to: number, every: number): number {
  if (every < 1 || to < from) return 0;
  return Math.floor(to / every) - Math.floor((from - 1) / every);
}

/** Integration pieces for the epsilon schedule: exact enough, and fast for thousands of trials. */
const EPSILON_PIECES = 256;

/** Expected greedy (non-random) actions over steps (from, to]: the sum of 1 - epsilon. */
export function expectedGreedyActions(config: CostConfig, from: number, to: number): number {
  if (to <= from) return 0;
  const epsilonAt = epsilonSchedule(config);
  const pieces = Math.min(EPSILON_PIECES, to - from);
  const width = (to - from) / pieces;
  let greedy = 0;
  for (let piece = 0; piece < pieces; piece++) {
    // Midpoint rule: the schedules are linear or smooth within a piece.
    const step = from + (piece + 0.5) * width + 0.5;
    greedy += (1 - epsilonAt(step)) * width;
  }
  return greedy;
}

/** Steps of evaluation: whole episodes at their time limit, else the evalSteps. */
export function stepsPerEvaluation(config: CostConfig, env: EnvShape): number {
  return config.evalEpisodes > 0 ? config.evalEpisodes * env.maxEpisodeSteps : config.evalSteps;
}

/** Frames of one eval/policy GIF of an episode at the time limit. */
export function framesPerGif(env: EnvShape): number {
  const skip = effectiveFrameSkip(env.maxEpisodeSteps, EVAL_GIF_OPTIONS.maxFrames, EVAL_GIF_OPTIONS.frameSkip);
  return Math.min(EVAL_GIF_OPTIONS.maxFrames, Math.floor(env.maxEpisodeSteps / skip) + 2);
}

/** Evaluations the trainer runs after steps (from, to]: every evalEvery from trainStart on, and one at the end. */
export function evaluationsIn(config: CostConfig, from: number, to: number): number {
  const periodic = config.evalEvery > 0 ? multiplesIn(Math.max(from + 1, config.trainStart), to, config.evalEvery) : 0;
  const lastIsPeriodic = config.evalEvery > 0 && config.steps >= config.trainStart && config.steps % config.evalEvery === 0;
  const final = from < config.steps && to >= config.steps && !lastIsPeriodic ? 1 : 0;
  return periodic + final;
}

const NO_WORK: TrialWork = {
  envSteps: 0,
  greedyActions: 0,
  gradientSteps: 0,
  targetUpdates: 0,
  evaluations: 0,
  evalSteps: 0,
  evalGreedyActions: 0,
  qValidationStates: 0,
  gifFrames: 0,
  checkpoints: 0,
  checkpointBytes: 0,
  startups: 0,
};

/** The per-step work of steps (from, to]: acting, storing, training and target updates. */
export function stepWork(config: CostConfig, from: number, to: number): TrialWork {
  const end = Math.min(to, config.steps);
  if (end <= from) return NO_WORK;
  // Training needs trainStart steps and a full batch in the replay buffer.
  const firstTrained = Math.max(from + 1, config.trainStart, config.batchSize);
  return {
    ...NO_WORK,
    envSteps: end - from,
    greedyActions: expectedGreedyActions(config, from, end),
    gradientSteps: multiplesIn(firstTrained, end, config.trainFrequency) * config.gradientSteps,
    targetUpdates: multiplesIn(firstTrained, end, config.targetUpdateEvery),
  };
}

/** The work that follows steps (from, to]: evaluations and checkpoints. */
export function eventWork(config: CostConfig, env: EnvShape, from: number, to: number): TrialWork {
  const end = Math.min(to, config.steps);
  if (end <= from) return NO_WORK;
  const evaluations = evaluationsIn(config, from, end);
  const evalSteps = evaluations * stepsPerEvaluation(config, env);
  const checkpoints = multiplesIn(from + 1, Math.min(end, config.steps - 1), config.checkpointEvery);
  const transitionBytes = (2 * env.observationSize + 3) * 4;
  return {
    ...NO_WORK,
    evaluations,
    evalSteps,
    evalGreedyActions: evalSteps * (1 - config.evalEpsilon),
    qValidationStates: evaluations * config.qValidationSize,
    gifFrames: config.evalGif ? evaluations * framesPerGif(env) : 0,
    checkpoints,
    // The replay buffer dominates a checkpoint: full after bufferSize steps.
    checkpointBytes: checkpoints * Math.min(config.bufferSize, end) * transitionBytes,
  };
}

export function addWork(a: TrialWork, b: TrialWork): TrialWork {
  const sum = { ...a };
  for (const key of Object.keys(sum) as Array<keyof TrialWork>) sum[key] += b[key];
  return sum;
}

/**
 * The work of steps (from, to] of a trial (0 <= from <= to <= steps), as the training loop in
 * src/train/trainer.ts does it; `withStartup` adds the process's start-up and shutdown.
 */
export function trialWork(config: CostConfig, env: EnvShape, from: number, to: number, withStartup: boolean): TrialWork {
  const work = addWork(stepWork(config, from, to), eventWork(config, env, from, to));
  return withStartup ? { ...work, startups: 1 } : work;
}

/** Seconds of one core that `work` takes at `costs`. */
export function workSeconds(work: TrialWork, costs: UnitCosts): number {
  return (
    work.envSteps * costs.envStep +
    work.greedyActions * costs.greedyAction +
    work.gradientSteps * costs.gradientStep +
    work.targetUpdates * costs.targetUpdate +
    // An evaluation step is an env step (a little less: no replay insert) and mostly greedy actions.
    work.evalSteps * costs.envStep +
    work.evalGreedyActions * costs.greedyAction +
    work.qValidationStates * costs.qValidationState +
    work.gifFrames * costs.gifFrame +
    work.checkpointBytes * costs.checkpointByte +
    work.startups * costs.startup
  );
}

/** One core's seconds for a whole trial, start-up included. */
export function trialSeconds(config: CostConfig, env: EnvShape, costs: UnitCosts): number {
  return workSeconds(trialWork(config, env, 0, config.steps, true), costs);
}

/** How much slower each of `running` single-threaded trials goes on `cores` cores than alone. */
export function sharingSlowdown(running: number, cores: number): number {
  return Math.max(1, running / Math.max(1, cores));
}

export interface Schedule {
  /** Wall seconds until the last trial ends. */
  totalSeconds: number;
  /** Wall seconds from now until each trial ends, in input order. */
  endSeconds: number[];
}

/**
 * Wall time of trials that need `work[i]` seconds of one core each, started in order as slots
 * free up, at most `concurrency` at once, on `cores` cores shared evenly among the running
 * ones (more trials than cores does not go faster: each slows down by running/cores), each
 * also `neighbourSlowdown[i]` times slower while another trial runs beside it.
 */
export function shareCores(work: readonly number[], concurrency: number, cores: number, neighbourSlowdown: readonly number[] = []): Schedule {
  const endSeconds = new Array<number>(work.length).fill(0);
  const slots = Math.max(1, Math.min(concurrency, work.length));
  const left = new Map<number, number>();
  let next = 0;
  let now = 0;
  const fill = (): void => {
    while (left.size < slots && next < work.length) {
      left.set(next, Math.max(0, work[next]!));
      next++;
    }
  };
  fill();
  while (left.size > 0) {
    const sharing = sharingSlowdown(left.size, cores);
    // Seconds of one core each running trial gets per wall second.
    const rate = (index: number): number => 1 / (sharing * (left.size > 1 ? Math.max(1, neighbourSlowdown[index] ?? 1) : 1));
    let elapsed = Infinity;
    for (const [index, remaining] of left) elapsed = Math.min(elapsed, remaining / rate(index));
    const rates = new Map([...left.keys()].map((index) => [index, rate(index)]));
    now += elapsed;
    for (const [index, remaining] of left) {
      const after = remaining - elapsed * rates.get(index)!;
      if (after <= 1e-9 * Math.max(1, work[index]!)) {
        left.delete(index);
        endSeconds[index] = now;
      } else {
        left.set(index, after);
      }
    }
    fill();
  }
  return { totalSeconds: now, endSeconds };
}

/**
 * How much slower than the calibration a running trial actually goes, from its latest log
 * interval: the interval's wall seconds over what the model says that interval costs, with
 * the slowdown from sharing the cores taken out (the schedule puts it back). Null when the
 * interval is unknown or free.
 */
export function observedSpeedFactor(config: CostConfig, env: EnvShape, costs: UnitCosts, report: { step: number; stepsPerSecond: number }, sharing: number): number | null {
  if (!(report.stepsPerSecond > 0) || report.step <= 0) return null;
  // The trainer reports every logEvery steps; the interval ends at the reported step.
  const intervalSteps = Math.min(report.step, ((report.step - 1) % config.logEvery) + 1);
  const from = report.step - intervalSteps;
  // The evaluation or checkpoint after the interval's first step (its log line) runs inside it; the one after the last does not.
  const work = addWork(stepWork(config, from, report.step), eventWork(config, env, Math.max(0, from - 1), report.step - 1));
  const modelled = workSeconds(work, costs);
  if (!(modelled > 0)) return null;
  return intervalSteps / report.stepsPerSecond / modelled / Math.max(1, sharing);
}

/** One core's seconds still to go for a trial at `step` (no start-up: it is running). */
export function remainingWorkSeconds(config: CostConfig, env: EnvShape, costs: UnitCosts, step: number): number {
  return workSeconds(trialWork(config, env, Math.max(0, step), config.steps, false), costs);
}

/**
 * Seconds until a running trial ends: its remaining work at the speed its latest log interval
 * showed (null before its first report). The interval's speed already includes the cores'
 * sharing, which this assumes stays as it is.
 */
export function runningTrialEtaSeconds(config: CostConfig, env: EnvShape, costs: UnitCosts, report: { step: number; stepsPerSecond: number }): number | null {
  const factor = observedSpeedFactor(config, env, costs, report, 1);
  return factor === null ? null : remainingWorkSeconds(config, env, costs, report.step) * factor;
}
