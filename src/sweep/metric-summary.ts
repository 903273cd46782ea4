/**
 * A trial's score: one number summarising the curve of the sweep's metric, chosen in the sweep
 * file's `metric: { name, goal, summary, k, threshold }`. Results rank configurations by it,
 * and adaptive searchers learn from it (trialScore).
 *
 *   final               the last value (the default, what rlsweep always ranked by)
 *   best                the best value by the goal
 *   mean_last_k         the mean of the last k values (default k = DEFAULT_LAST_K)
 *   auc                 the area under the curve over environment steps (trapezoids), divided by
 *                       the steps it spans: the curve's average height, in the metric's units
 *                       (for returns: the return a run averaged while it learned; sample efficiency)
 *   steps_to_threshold  the first environment step at which the metric reaches the threshold
 *                       (>=; default: the env's reward threshold); +Infinity when it never does
 */
import { envSpec } from '../envs/index.js';
import { maxOf, minOf } from '../util/extent.js';

export const METRIC_SUMMARIES = ['final', 'best', 'mean_last_k', 'auc', 'steps_to_threshold'] as const;
export type MetricSummary = (typeof METRIC_SUMMARIES)[number];
export type MetricGoal = 'maximize' | 'minimize';
/** k of mean_last_k when the file does not say: with the default evaluation every 10% of training, its last 30%. */
export const DEFAULT_LAST_K = 3;
/** Metrics a threshold on returns applies to: higher is better, and the env's reward threshold is in their units. */
export const THRESHOLD_METRICS = ['eval/return_mean', 'train/episode_return'] as const;

/** How a sweep scores a trial: its metric (a scalar tag), the goal of the score, and the summary of the curve. */
export interface MetricDefinition {
  name: string;
  /** The goal of the score: minimize for steps_to_threshold. */
  goal: MetricGoal;
  /** Absent in sweep.json files written before summaries existed: final. */
  summary?: MetricSummary;
  /** mean_last_k: how many of the last values. */
  k?: number;
  /** steps_to_threshold: the value to reach; absent: the env's reward threshold. */
  threshold?: number;
}

/** A point of the metric's curve: [environment step, value]. */
export type CurvePoint = readonly [step: number, value: number];

export function summaryOf(metric: MetricDefinition): MetricSummary {
  return metric.summary ?? 'final';
}

/** The goal by which the metric's own values are better (its `best`): for steps_to_threshold the score's goal is about steps, and returns are better higher. */
export function valueGoal(metric: MetricDefinition): MetricGoal {
  return summaryOf(metric) === 'steps_to_threshold' ? 'maximize' : metric.goal;
}

/** The threshold a trial on `env` must reach: the file's, else the env's reward threshold (Gymnasium's reward_threshold: MountainCar-v0 -110, CartPole-v1 475, Acrobot-v1 -100); undefined when neither is known. */
export function thresholdFor(metric: MetricDefinition, env: string | undefined): number | undefined {
  if (metric.threshold !== undefined) return metric.threshold;
  if (env === undefined) return undefined;
  try {
    return envSpec(env).rewardThreshold;
  } catch {
    return undefined;
  }
}

function finitePoints(curve: readonly CurvePoint[]): CurvePoint[] {
  return curve.filter(([step, value]) => Number.isFinite(step) && Number.isFinite(value));
}

/** Trapezoid area under the curve divided by its step span; the single value when it has one point. Points in step order. */
export function normalisedArea(points: readonly CurvePoint[]): number {
  if (points.length === 1) return points[0]![1];
  let area = 0;
  for (let i = 1; i < points.length; i++) area += ((points[i]![1] + points[i - 1]![1]) / 2) * (points[i]![0] - points[i - 1]![0]);
  const span = points.at(-1)![0] - points[0]![0];
  // Every point at one step: no width to average over.
  return span > 0 ? area / span : points.reduce((sum, point) => sum + point[1], 0) / points.length;
}

/** The first step whose value is >= threshold; +Infinity when none is. */
export function stepsToThreshold(points: readonly CurvePoint[], threshold: number): number {
  return points.find(([, value]) => value >= threshold)?.[0] ?? Number.POSITIVE_INFINITY;
}

/**
 * The score of one trial from its metric's curve (points [step, value]; non-finite values are
 * left out): in the metric's units (steps for steps_to_threshold), to be compared by
 * `metric.goal`. Null when the curve has no finite value yet, or for steps_to_threshold when no
 * threshold is known (`env` gives the default); +Infinity when the curve never reaches it.
 * Works on a partial curve too (a trial stopped at a rung): the summary of what it logged.
 */
export function trialScore(curve: readonly CurvePoint[], metric: MetricDefinition, env?: string): number | null {
  const points = finitePoints(curve).sort((a, b) => a[0] - b[0]);
  if (points.length === 0) return null;
  const values = points.map(([, value]) => value);
  switch (summaryOf(metric)) {
    case 'final':
      return values.at(-1)!;
    case 'best':
      return metric.goal === 'maximize' ? maxOf(values) : minOf(values);
    case 'mean_last_k': {
      const last = values.slice(-(metric.k ?? DEFAULT_LAST_K));
      return last.reduce((sum, value) => sum + value, 0) / last.length;
    }
    case 'auc':
      return normalisedArea(points);
    case 'steps_to_threshold': {
      const threshold = thresholdFor(metric, env);
      return threshold === undefined ? null : stepsToThreshold(points, threshold);
    }
  }
}

/** "final eval/return_mean", "steps until eval/return_mean >= 475", ...: what a score is, for titles and lines. */
export function describeScore(metric: MetricDefinition, env?: string): string {
  switch (summaryOf(metric)) {
    case 'final':
      return `final ${metric.name}`;
    case 'best':
      return `best ${metric.name}`;
    case 'mean_last_k':
      return `mean of the last ${metric.k ?? DEFAULT_LAST_K} ${metric.name}`;
    case 'auc':
      return `${metric.name} averaged over steps (area under the curve / steps)`;
    case 'steps_to_threshold': {
      const threshold = thresholdFor(metric, env);
      return `steps until ${metric.name} >= ${threshold ?? "the env's reward threshold"}`;
    }
  }
}
