export type EpsilonSchedule = (step: number) => number;

/** The exploration settings a schedule reads (RunConfig's fields of the same names). */
export interface EpsilonSettings {
  epsilonSchedule: 'constant' | 'linear' | 'exponential';
  trainEpsilon: number;
  epsilonStart: number;
  epsilonFraction: number;
  epsilonDecay: number;
  steps: number;
}

/** The learning-rate settings a schedule reads (RunConfig's fields of the same names). */
export interface LearningRateSettings {
  learningRateSchedule: 'constant' | 'linear';
  learningRate: number;
  learningRateEnd: number;
  learningRateFraction: number;
  steps: number;
}

/** Epsilon at environment step `step` (1-based) for the configured schedule. */
export function epsilonSchedule(config: EpsilonSettings): EpsilonSchedule {
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
export function learningRateSchedule(config: LearningRateSettings): ((step: number) => number) | null {
  if (config.learningRateSchedule === 'constant') return null;
  const { learningRate: start, learningRateEnd: end } = config;
  const decaySteps = config.learningRateFraction * config.steps;
  return (step) => start + (end - start) * Math.min(1, step / decaySteps);
}
