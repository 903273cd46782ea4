import type { RunConfig } from '../train/config.js';

export type EpsilonSchedule = (step: number) => number;

/** Epsilon at environment step `step` (1-based) for the configured schedule. */
export function epsilonSchedule(
  config: Pick<RunConfig, 'epsilonSchedule' | 'trainEpsilon' | 'epsilonStart' | 'epsilonFraction' | 'epsilonDecay' | 'steps'>,
): EpsilonSchedule {
  const { trainEpsilon: final, epsilonStart: start } = config;
  switch (config.epsilonSchedule) {
    case 'constant':
      return () => final;
    case 'linear': {
      const decaySteps = Math.max(1, config.epsilonFraction * config.steps);
      return (step) => {
        const progress = Math.min(1, (step - 1) / decaySteps);
        return start + (final - start) * progress;
      };
    }
    case 'exponential': {
      const decay = config.epsilonDecay;
      return (step) => Math.max(final, start * Math.pow(decay, step - 1));
    }
  }
}

/**
 * Learning rate at environment step `step` (1-based), or null for a constant one:
 * linear goes from learningRate at the start to learningRateEnd after learningRateFraction
 * of the steps, and stays there (SB3's get_linear_fn).
 */
export function learningRateSchedule(
  config: Pick<RunConfig, 'learningRateSchedule' | 'learningRate' | 'learningRateEnd' | 'learningRateFraction' | 'steps'>,
): ((step: number) => number) | null {
  if (config.learningRateSchedule === 'constant') return null;
  const { learningRate: start, learningRateEnd: end } = config;
  const decaySteps = config.learningRateFraction * config.steps;
  return (step) => start + (end - start) * Math.min(1, step / decaySteps);
}
