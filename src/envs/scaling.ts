/**
 * Observation scaling: the network sees each bounded component mapped from the env's
 * observation bounds onto [-1, 1]. MountainCar's velocity lives in +-0.07 while its position
 * spans 1.8, so unscaled the first layer must learn weights of very different sizes.
 * Unbounded components (CartPole's velocities) pass through unchanged.
 */
import type { Env, EnvSnapshot, ResetOptions, StepResult, StepStatus } from './types.js';

/** scaled[i] = (raw[i] - shift[i]) * scale[i]. */
export interface ObservationScaling {
  readonly shift: Float64Array;
  readonly scale: Float64Array;
}

export type ObservationScalingKind = 'none' | 'bounds';

/** The scaling that maps [low, high] onto [-1, 1] per component; identity where a bound is infinite. */
export function boundsScaling(bounds: { observationLow: readonly number[]; observationHigh: readonly number[] }): ObservationScaling {
  const size = bounds.observationLow.length;
  const shift = new Float64Array(size);
  const scale = new Float64Array(size).fill(1);
  for (let i = 0; i < size; i++) {
    const low = bounds.observationLow[i]!;
    const high = bounds.observationHigh[i]!;
    if (Number.isFinite(low) && Number.isFinite(high) && high > low) {
      shift[i] = (low + high) / 2;
      scale[i] = 2 / (high - low);
    }
  }
  return { shift, scale };
}

export function scaleInPlace(observation: Float32Array, scaling: ObservationScaling): void {
  const { shift, scale } = scaling;
  for (let i = 0; i < shift.length; i++) observation[i] = (observation[i]! - shift[i]!) * scale[i]!;
}

/**
 * `env` with scaled observations; everything else (state, rendering, limits) is the inner
 * env's, so checkpoints and renderers see the physical state.
 */
export function withScaledObservations(env: Env, scaling: ObservationScaling): Env {
  return {
    id: env.id,
    observationSize: env.observationSize,
    actionCount: env.actionCount,
    maxEpisodeSteps: env.maxEpisodeSteps,
    rewardThreshold: env.rewardThreshold,
    observationLow: env.observationLow.map((value, i) => (value - scaling.shift[i]!) * scaling.scale[i]!),
    observationHigh: env.observationHigh.map((value, i) => (value - scaling.shift[i]!) * scaling.scale[i]!),
    reset(options?: ResetOptions): Float32Array {
      const observation = env.reset(options);
      scaleInPlace(observation, scaling);
      return observation;
    },
    resetInto(observation: Float32Array, options?: ResetOptions): void {
      env.resetInto(observation, options);
      scaleInPlace(observation, scaling);
    },
    step(action: number): StepResult {
      const result = env.step(action);
      scaleInPlace(result.observation, scaling);
      return result;
    },
    stepInto(action: number, observation: Float32Array): StepStatus {
      const status = env.stepInto(action, observation);
      scaleInPlace(observation, scaling);
      return status;
    },
    getState: (): EnvSnapshot => env.getState(),
    setState: (saved: EnvSnapshot): void => env.setState(saved),
    // Renderers draw the inner env's state; present only when the inner env has them.
    ...(env.renderText && { renderText: (): string => env.renderText!() }),
    ...(env.renderRgb && { renderRgb: (width: number, height: number, into?: Uint8Array): Uint8Array => env.renderRgb!(width, height, into) }),
    ...(env.renderFps !== undefined && { renderFps: env.renderFps }),
  };
}

/** The env a run's agent sees: raw, or with observations scaled by the env's bounds. */
export function agentEnv(env: Env, kind: ObservationScalingKind): Env {
  return kind === 'bounds' ? withScaledObservations(env, boundsScaling(env)) : env;
}
