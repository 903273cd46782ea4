import { Rng } from '../util/random.js';
import type { Env, EnvSnapshot, EnvSpec, ResetOptions, StepResult, StepStatus } from './types.js';

/** Seed of an env's generator until the first `reset({ seed })`, so unseeded runs are still repeatable. */
const DEFAULT_SEED = 0;

/**
 * Episode bookkeeping shared by the classic-control envs: the seeded generator, the time limit
 * (Gymnasium's TimeLimit wrapper, folded in), the reset-before-step guard and action checks.
 * Subclasses supply only the physics: the initial-state draw, one transition and the observation.
 */
export abstract class BaseEnv implements Env {
  readonly id: string;
  readonly observationSize: number;
  readonly actionCount: number;
  readonly maxEpisodeSteps: number;
  readonly rewardThreshold: number;
  readonly observationLow: readonly number[];
  readonly observationHigh: readonly number[];

  /** The physical state in double precision; subclasses update it in place. */
  protected readonly state: Float64Array;
  private readonly rng = new Rng(DEFAULT_SEED);
  private elapsedSteps = 0;
  private needsReset = true;
  /** The object stepInto returns, reused so that stepping allocates nothing. */
  private readonly status = { reward: 0, terminated: false, truncated: false };

  protected constructor(spec: EnvSpec, stateSize: number) {
    this.id = spec.id;
    this.observationSize = spec.observationSize;
    this.actionCount = spec.actionCount;
    this.maxEpisodeSteps = spec.maxEpisodeSteps;
    this.rewardThreshold = spec.rewardThreshold;
    this.observationLow = spec.observationLow;
    this.observationHigh = spec.observationHigh;
    this.state = new Float64Array(stateSize);
  }

  /** Writes a draw from the initial-state distribution into `state`. */
  protected abstract sampleInitialState(rng: Rng, state: Float64Array): void;
  /** Applies one valid action to `this.state`; returns whether the new state is terminal. */
  protected abstract advance(action: number): boolean;
  protected abstract rewardFor(terminated: boolean): number;
  /** Writes the observation of the current state into `out` (rounded to float32 by the array). */
  protected abstract observeInto(out: Float32Array): void;

  reset(options: ResetOptions = {}): Float32Array {
    const observation = new Float32Array(this.observationSize);
    this.resetInto(observation, options);
    return observation;
  }

  resetInto(observation: Float32Array, options: ResetOptions = {}): void {
    this.checkObservationArray(observation);
    if (options.seed !== undefined) this.rng.reseed(checkSeed(this.id, options.seed));
    if (options.state !== undefined) {
      this.state.set(checkStateVector(this.id, options.state, this.state.length));
    } else {
      this.sampleInitialState(this.rng, this.state);
    }
    this.elapsedSteps = 0;
    this.needsReset = false;
    this.observeInto(observation);
  }

  step(action: number): StepResult {
    const observation = new Float32Array(this.observationSize);
    const { reward, terminated, truncated } = this.stepInto(action, observation);
    return { observation, reward, terminated, truncated };
  }

  stepInto(action: number, observation: Float32Array): StepStatus {
    if (this.needsReset) throw this.steppedWithoutResetError();
    if (!Number.isInteger(action) || action < 0 || action >= this.actionCount) {
      throw new RangeError(`${this.id}: invalid action ${String(action)}; expected an integer in [0, ${this.actionCount - 1}]`);
    }
    this.checkObservationArray(observation);
    const terminated = this.advance(action);
    this.elapsedSteps++;
    const truncated = !terminated && this.elapsedSteps >= this.maxEpisodeSteps;
    this.needsReset = terminated || truncated;
    this.observeInto(observation);
    const status = this.status;
    status.reward = this.rewardFor(terminated);
    status.terminated = terminated;
    status.truncated = truncated;
    return status;
  }

  getState(): EnvSnapshot {
    return {
      state: Array.from(this.state),
      elapsedSteps: this.elapsedSteps,
      rngState: this.rng.getState(),
      needsReset: this.needsReset,
    };
  }

  setState(saved: EnvSnapshot): void {
    const state = checkStateVector(this.id, saved.state, this.state.length);
    const { elapsedSteps } = saved;
    if (!Number.isInteger(elapsedSteps) || elapsedSteps < 0 || elapsedSteps > this.maxEpisodeSteps) {
      throw new RangeError(`${this.id}: setState: elapsedSteps must be an integer in [0, ${this.maxEpisodeSteps}], got ${elapsedSteps}`);
    }
    this.rng.setState(saved.rngState);
    this.state.set(state);
    this.elapsedSteps = elapsedSteps;
    this.needsReset = Boolean(saved.needsReset);
  }

  private checkObservationArray(observation: Float32Array): void {
    if (observation.length < this.observationSize) {
      throw new RangeError(`${this.id}: the observation array has ${observation.length} values, expected ${this.observationSize}`);
    }
  }

  private steppedWithoutResetError(): Error {
    // An episode always ends on a step, so zero elapsed steps means no reset has happened yet.
    const why = this.elapsedSteps === 0 ? 'before the first reset()' : 'after the episode ended';
    return new Error(`${this.id}: step() called ${why}; call reset() to start an episode`);
  }
}

function checkSeed(envId: string, seed: number): number {
  if (!Number.isInteger(seed)) throw new TypeError(`${envId}: reset seed must be an integer, got ${seed}`);
  return seed;
}

function checkStateVector(envId: string, state: ArrayLike<number>, size: number): ArrayLike<number> {
  if (state.length !== size) {
    throw new RangeError(`${envId}: state must have ${size} values, got ${state.length}`);
  }
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(state[i])) {
      throw new RangeError(`${envId}: state[${i}] must be a finite number, got ${String(state[i])}`);
    }
  }
  return state;
}
