import type { Env } from '../envs/index.js';
import type { QLearner } from '../agent/learner.js';
import type { Rng } from '../util/random.js';

export interface EvaluationPlan {
  /** Run this many whole episodes (takes precedence when > 0). */
  episodes: number;
  /** Otherwise run this many steps and average the episodes completed in them. */
  steps: number;
  epsilon: number;
}

export interface EvaluationResult {
  returns: number[];
  lengths: number[];
  returnMean: number;
  returnStd: number;
  steps: number;
}

/** Called every so often with the work done so far (0..1), for progress bars. */
export type ProgressCallback = (fraction: number) => void;

/** epsilon-greedy action; with epsilon 0 no random number is drawn. */
export function epsilonGreedy(learner: QLearner, observation: Float32Array, epsilon: number, actionCount: number, rng: Rng): number {
  if (epsilon > 0 && rng.nextFloat() < epsilon) return rng.nextInt(actionCount);
  return learner.greedyAction(observation);
}

/**
 * Play the policy on its own environment (never the training one, whose episode would
 * be cut short). In step mode an episode still running when the steps run out counts
 * only if no episode completed, so the average is over whole episodes where possible.
 */
export function evaluate(learner: QLearner, env: Env, rng: Rng, plan: EvaluationPlan, onProgress?: ProgressCallback): EvaluationResult {
  const returns: number[] = [];
  const lengths: number[] = [];
  const byEpisodes = plan.episodes > 0;
  const total = byEpisodes ? plan.episodes : plan.steps;
  const progressEvery = Math.max(1, Math.floor(total / 100));
  let observation = env.reset();
  let episodeReturn = 0;
  let episodeLength = 0;
  let steps = 0;
  while (byEpisodes ? returns.length < plan.episodes : steps < plan.steps) {
    const action = epsilonGreedy(learner, observation, plan.epsilon, env.actionCount, rng);
    const result = env.step(action);
    steps++;
    episodeReturn += result.reward;
    episodeLength++;
    observation = result.observation;
    if (result.terminated || result.truncated) {
      returns.push(episodeReturn);
      lengths.push(episodeLength);
      episodeReturn = 0;
      episodeLength = 0;
      observation = env.reset();
      if (byEpisodes && onProgress) onProgress(returns.length / total);
    }
    if (!byEpisodes && onProgress && steps % progressEvery === 0) onProgress(steps / total);
  }
  if (returns.length === 0) {
    returns.push(episodeReturn);
    lengths.push(episodeLength);
  }
  const returnMean = mean(returns);
  return { returns, lengths, returnMean, returnStd: standardDeviation(returns, returnMean), steps };
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length > 0 ? sum / values.length : NaN;
}

/** Population standard deviation (numpy's default), as TensorBoard users expect from np.std. */
export function standardDeviation(values: ArrayLike<number>, valuesMean = mean(values)): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - valuesMean) ** 2;
  return values.length > 0 ? Math.sqrt(sum / values.length) : NaN;
}

/** Mean over states of max_a Q(s, a): the tutorial's avg_max_q_value. */
export function averageMaxQ(learner: QLearner, states: Float32Array, stateCount: number): number {
  const actionCount = learner.spec.actionCount;
  const qValues = new Float32Array(stateCount * actionCount);
  learner.qValues(states, stateCount, qValues);
  let sum = 0;
  for (let s = 0; s < stateCount; s++) {
    let best = -Infinity;
    for (let a = 0; a < actionCount; a++) best = Math.max(best, qValues[s * actionCount + a]!);
    sum += best;
  }
  return sum / stateCount;
}
