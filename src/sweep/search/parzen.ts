/**
 * The Parzen estimators of TPE, one parameter at a time, after Optuna's univariate TPE
 * (samplers/_tpe): a mixture of one kernel per observation plus a prior kernel (weight 1)
 * over the whole range. Numeric kernels are normals truncated to the range, with the
 * bandwidth of each the larger gap to its neighbours (the prior's centre and the range ends
 * count as neighbours) clipped to [range / min(100, 1 + kernels), range] ("magic clip");
 * discrete ones (int_uniform, q_uniform) put on each grid point the kernel's mass of the
 * half-step around it. Categorical kernels are weighted counts: each observation puts
 * 1 + prior / kernels on its choice and prior / kernels on every other one.
 * Written here because no maintained JavaScript library has TPE.
 */
import type { Rng } from '../../util/random.js';

/** A numeric axis in TPE's internal space: log of the value for log_uniform_values, the grid index for a discrete one. */
export interface NumericAxis {
  kind: 'continuous' | 'discrete';
  /** Ends of the internal space (discrete: the first and last grid index). */
  low: number;
  high: number;
}

export interface NumericEstimator {
  kind: 'continuous' | 'discrete';
  /** Ends the kernels are truncated to (discrete: half a step past the end points). */
  low: number;
  high: number;
  /** The grid's end indices (discrete), where samples are rounded into. */
  gridLow: number;
  gridHigh: number;
  weights: number[];
  mus: number[];
  sigmas: number[];
}

export interface CategoricalEstimator {
  kind: 'categorical';
  /** The mixture collapsed to one probability per choice. */
  probabilities: number[];
}

export type Estimator = NumericEstimator | CategoricalEstimator;

/** Optuna's prior_weight. */
const PRIOR_WEIGHT = 1;
/** Optuna's magic clip: the narrowest kernel is range / min(MAGIC_CLIP_MAX, 1 + kernels). */
const MAGIC_CLIP_MAX = 100;
/** Observations past this many (the newest) weigh 1; older ones ramp down linearly (Bergstra et al. 2013). */
const FLAT_WEIGHTS = 25;

/** Weights of observations in chronological order (Optuna's default_weights). */
export function observationWeights(count: number): number[] {
  if (count < FLAT_WEIGHTS) return new Array<number>(count).fill(1);
  const ramp = count - FLAT_WEIGHTS;
  // linspace(1 / count, 1, ramp) for the oldest, then FLAT_WEIGHTS ones.
  const ramped = Array.from({ length: ramp }, (_, i) => (ramp === 1 ? 1 / count : 1 / count + ((1 - 1 / count) * i) / (ramp - 1)));
  return [...ramped, ...new Array<number>(FLAT_WEIGHTS).fill(1)];
}

/** The mixture weights: the observations' weights and the prior's, summing to 1. */
function mixtureWeights(count: number): number[] {
  if (count === 0) return [1];
  const weights = [...observationWeights(count), PRIOR_WEIGHT];
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/** Kernel bandwidths for `mus` (internal values) in [low, high]: the larger neighbour gap, magic-clipped. */
export function bandwidths(mus: readonly number[], low: number, high: number): number[] {
  const range = high - low;
  const withPrior = [...mus, (low + high) / 2];
  const order = withPrior.map((_, i) => i).sort((a, b) => withPrior[a]! - withPrior[b]! || a - b);
  const sorted = [low, ...order.map((i) => withPrior[i]!), high];
  const sortedSigmas = order.map((_, j) => Math.max(sorted[j + 1]! - sorted[j]!, sorted[j + 2]! - sorted[j + 1]!));
  // consider_endpoints off: the outermost kernels look inward only, not at the range ends.
  if (order.length >= 2) {
    sortedSigmas[0] = sorted[2]! - sorted[1]!;
    sortedSigmas[order.length - 1] = sorted[order.length]! - sorted[order.length - 1]!;
  }
  const sigmas = new Array<number>(withPrior.length);
  order.forEach((original, j) => {
    sigmas[original] = sortedSigmas[j]!;
  });
  const minSigma = range / Math.min(MAGIC_CLIP_MAX, 1 + mus.length + 1);
  return sigmas.slice(0, mus.length).map((sigma) => Math.min(range, Math.max(minSigma, sigma)));
}

/** The estimator of a numeric axis from the observed internal values, oldest first. */
export function numericEstimator(axis: NumericAxis, observed: readonly number[]): NumericEstimator {
  const widen = axis.kind === 'discrete' ? 0.5 : 0;
  const low = axis.low - widen;
  const high = axis.high + widen;
  const inside = observed.map((value) => Math.min(high, Math.max(low, value)));
  const mus = [...inside, (low + high) / 2];
  const sigmas = [...bandwidths(inside, low, high), high - low];
  return { kind: axis.kind, low, high, gridLow: axis.low, gridHigh: axis.high, weights: mixtureWeights(observed.length), mus, sigmas };
}

/** The estimator of a categorical axis of `choices` choices from the observed choice indices, oldest first. */
export function categoricalEstimator(choices: number, observed: readonly number[]): CategoricalEstimator {
  if (observed.length === 0) return { kind: 'categorical', probabilities: new Array<number>(choices).fill(1 / choices) };
  const weights = mixtureWeights(observed.length);
  const kernels = observed.length + 1;
  const floor = PRIOR_WEIGHT / kernels;
  const rowTotal = 1 + floor * choices;
  // The prior kernel is uniform; each observation's row is normalised before mixing.
  const probabilities = new Array<number>(choices).fill(weights[observed.length]! / choices);
  observed.forEach((choice, k) => {
    for (let c = 0; c < choices; c++) probabilities[c]! += (weights[k]! * (floor + (c === choice ? 1 : 0))) / rowTotal;
  });
  return { kind: 'categorical', probabilities };
}

/** Draws from the estimator: an internal value (a grid index for a discrete axis, a choice index for a categorical one). */
export function sampleEstimator(estimator: Estimator, rng: Rng): number {
  if (estimator.kind === 'categorical') return pick(estimator.probabilities, rng);
  const k = pick(estimator.weights, rng);
  const x = truncatedNormal(estimator.mus[k]!, estimator.sigmas[k]!, estimator.low, estimator.high, rng);
  if (estimator.kind === 'continuous') return x;
  return Math.min(estimator.gridHigh, Math.max(estimator.gridLow, Math.round(x)));
}

/** Log density (log probability for discrete and categorical axes) of an internal value. */
export function logDensity(estimator: Estimator, x: number): number {
  if (estimator.kind === 'categorical') return Math.log(estimator.probabilities[x]!);
  const terms = estimator.mus.map((mu, k) => {
    const sigma = estimator.sigmas[k]!;
    const normaliser = logNormalMass((estimator.low - mu) / sigma, (estimator.high - mu) / sigma);
    const kernel =
      estimator.kind === 'continuous'
        ? -0.5 * ((x - mu) / sigma) ** 2 - 0.5 * Math.log(2 * Math.PI) - Math.log(sigma) - normaliser
        : logNormalMass((x - 0.5 - mu) / sigma, (x + 0.5 - mu) / sigma) - normaliser;
    return Math.log(estimator.weights[k]!) + kernel;
  });
  return logSumExp(terms);
}

function pick(probabilities: readonly number[], rng: Rng): number {
  let u = rng.nextFloat();
  for (let i = 0; i < probabilities.length - 1; i++) {
    u -= probabilities[i]!;
    if (u < 0) return i;
  }
  return probabilities.length - 1;
}

/**
 * A normal draw kept inside [low, high] by rejection: mu lies in the range and sigma is at most
 * its width, so at least a third of the draws land inside.
 */
function truncatedNormal(mu: number, sigma: number, low: number, high: number, rng: Rng): number {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = mu + sigma * rng.normal();
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu));
}

export function logSumExp(terms: readonly number[]): number {
  const top = Math.max(...terms);
  if (top === -Infinity) return -Infinity;
  return top + Math.log(terms.reduce((sum, term) => sum + Math.exp(term - top), 0));
}

/**
 * log erfc(z) for z >= 0, without underflow far in the tail: the Chebyshev fit of Numerical
 * Recipes' erfcc (fractional error below 1.2e-7 everywhere), taken in log form.
 */
function logErfc(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - z * z + poly;
}

/** log Phi(x), the standard normal's log CDF. */
export function logNormalCdf(x: number): number {
  if (x <= 0) return Math.log(0.5) + logErfc(-x / Math.SQRT2);
  return Math.log1p(-0.5 * Math.exp(logErfc(x / Math.SQRT2)));
}

/** log(Phi(b) - Phi(a)) for a <= b, accurate when both lie far in one tail. */
export function logNormalMass(a: number, b: number): number {
  if (!(a < b)) return -Infinity;
  // Phi(b) - Phi(a) = Phi(-a) - Phi(-b): work in the lower tail, where log Phi keeps its digits.
  if (a > 0) return logNormalMass(-b, -a);
  const upper = logNormalCdf(b);
  return upper + Math.log1p(-Math.exp(logNormalCdf(a) - upper));
}
