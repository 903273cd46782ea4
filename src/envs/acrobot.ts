import type { Rng } from '../util/random.js';
import { BaseEnv } from './base-env.js';
import { libmCos, libmSin } from './libm-trig.js';
import { renderAcrobot } from './render-text.js';
import type { EnvSpec } from './types.js';

/**
 * Gymnasium's Acrobot-v1 with the book dynamics and no torque noise.
 * State [theta1, theta2, dtheta1, dtheta2] (theta2 relative to link 1, 0 = hanging down);
 * observation [cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2].
 */
export const ACROBOT_V1: EnvSpec = {
  id: 'Acrobot-v1',
  observationSize: 6,
  actionCount: 3,
  maxEpisodeSteps: 500,
  rewardThreshold: -100,
  // cos/sin of both angles, then the angular velocities' limits (4 pi and 9 pi rad/s).
  observationLow: [-1, -1, -1, -1, -4 * Math.PI, -9 * Math.PI],
  observationHigh: [1, 1, 1, 1, 4 * Math.PI, 9 * Math.PI],
};

/** Seconds integrated per step (one RK4 step over [0, DT]). */
const DT = 0.2;
const LINK_LENGTH_1 = 1.0;
const LINK_LENGTH_2 = 1.0;
const LINK_MASS_1 = 1.0;
const LINK_MASS_2 = 1.0;
const LINK_COM_POS_1 = 0.5;
const LINK_COM_POS_2 = 0.5;
const LINK_MOI = 1.0;
const G = 9.8;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const TORQUES = [-1.0, 0.0, 1.0] as const;
const INITIAL_STATE_BOUND = 0.1;

/** Length of the integrated vector: the 4 state values plus the torque, which has derivative 0. */
const AUGMENTED_SIZE = 5;

/**
 * Time derivative of [theta1, theta2, dtheta1, dtheta2, torque], written into `out`.
 * Every product and sum is grouped as in Gymnasium's `_dsdt` (book variant), and sin/cos
 * round as glibc's do: the trajectory is chaotic, so any difference in the last bit soon
 * shows in the observations.
 */
export function acrobotDerivatives(y: ArrayLike<number>, out: Float64Array): void {
  const m1 = LINK_MASS_1;
  const m2 = LINK_MASS_2;
  const l1 = LINK_LENGTH_1;
  const lc1 = LINK_COM_POS_1;
  const lc2 = LINK_COM_POS_2;
  const i1 = LINK_MOI;
  const i2 = LINK_MOI;
  const theta1 = y[0]!;
  const theta2 = y[1]!;
  const dtheta1 = y[2]!;
  const dtheta2 = y[3]!;
  const torque = y[4]!;
  const cosTheta2 = libmCos(theta2);
  const sinTheta2 = libmSin(theta2);

  const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cosTheta2) + i1 + i2;
  const d2 = m2 * (lc2 * lc2 + l1 * lc2 * cosTheta2) + i2;
  const phi2 = m2 * lc2 * G * libmCos(theta1 + theta2 - Math.PI / 2.0);
  const phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sinTheta2 - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinTheta2 + (m1 * lc1 + m2 * l1) * G * libmCos(theta1 - Math.PI / 2) + phi2;
  const ddtheta2 = (torque + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sinTheta2 - phi2) / (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;

  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
  out[4] = 0.0;
}

/** Buffers for one RK4 step, allocated once per env so `stepInto` allocates nothing. */
interface Rk4Scratch {
  k1: Float64Array;
  k2: Float64Array;
  k3: Float64Array;
  k4: Float64Array;
  probe: Float64Array;
}

function createRk4Scratch(size: number): Rk4Scratch {
  const buffer = (): Float64Array => new Float64Array(size);
  return { k1: buffer(), k2: buffer(), k3: buffer(), k4: buffer(), probe: buffer() };
}

/** `probe[i] = y[i] + h * k[i]`: where the next slope is sampled. */
function offsetInto(probe: Float64Array, y: Float64Array, h: number, k: Float64Array): Float64Array {
  for (let i = 0; i < y.length; i++) probe[i] = y[i]! + h * k[i]!;
  return probe;
}

/**
 * One classical Runge-Kutta step of length `dt`, in place on `y`, with the arithmetic of
 * Gymnasium's `rk4` for the time points [0, dt]: y + dt / 6 * (k1 + 2 k2 + 2 k3 + k4).
 */
function rk4StepInPlace(derivatives: (y: ArrayLike<number>, out: Float64Array) => void, y: Float64Array, dt: number, scratch: Rk4Scratch): void {
  const { k1, k2, k3, k4, probe } = scratch;
  const halfDt = dt / 2.0;
  derivatives(y, k1);
  derivatives(offsetInto(probe, y, halfDt, k1), k2);
  derivatives(offsetInto(probe, y, halfDt, k2), k3);
  derivatives(offsetInto(probe, y, dt, k3), k4);
  const weight = dt / 6.0;
  for (let i = 0; i < y.length; i++) {
    y[i] = y[i]! + weight * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
  }
}

/** Shifts an angle by whole turns into [low, high], by repeated subtraction as Gymnasium's `wrap`. */
export function wrap(x: number, low: number, high: number): number {
  const turn = high - low;
  while (x > high) x -= turn;
  while (x < low) x += turn;
  return x;
}

/** Clamps into [low, high] (Gymnasium's `bound`). */
export function bound(x: number, low: number, high: number): number {
  return Math.min(Math.max(x, low), high);
}

export class AcrobotEnv extends BaseEnv {
  private readonly augmented = new Float64Array(AUGMENTED_SIZE);
  private readonly scratch = createRk4Scratch(AUGMENTED_SIZE);

  constructor() {
    super(ACROBOT_V1, 4);
  }

  protected sampleInitialState(rng: Rng, state: Float64Array): void {
    // Gymnasium casts the initial draw to float32; Math.fround reproduces that rounding.
    for (let i = 0; i < 4; i++) state[i] = Math.fround(rng.uniform(-INITIAL_STATE_BOUND, INITIAL_STATE_BOUND));
  }

  protected advance(action: number): boolean {
    const s = this.state;
    const y = this.augmented;
    y.set(s);
    y[4] = TORQUES[action]!;
    rk4StepInPlace(acrobotDerivatives, y, DT, this.scratch);
    s[0] = wrap(y[0]!, -Math.PI, Math.PI);
    s[1] = wrap(y[1]!, -Math.PI, Math.PI);
    s[2] = bound(y[2]!, -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(y[3]!, -MAX_VEL_2, MAX_VEL_2);
    // The free end is above the target line, one link length over the pivot.
    return -libmCos(s[0]!) - libmCos(s[1]! + s[0]!) > 1.0;
  }

  protected rewardFor(terminated: boolean): number {
    return terminated ? 0 : -1;
  }

  protected observeInto(out: Float32Array): void {
    const s = this.state;
    out[0] = libmCos(s[0]!);
    out[1] = libmSin(s[0]!);
    out[2] = libmCos(s[1]!);
    out[3] = libmSin(s[1]!);
    out[4] = s[2]!;
    out[5] = s[3]!;
  }

  renderText(): string {
    return renderAcrobot(this.state[0]!, this.state[1]!, {
      link1Length: LINK_LENGTH_1,
      link2Length: LINK_LENGTH_2,
    });
  }
}
