import type { Rng } from '../util/random.js';
import { BaseEnv } from './base-env.js';
import { libmCos, libmSin } from './libm-trig.js';
import { renderCartPole } from './render-text.js';
import type { EnvSpec } from './types.js';

/** Gymnasium's CartPole: state [x, x_dot, theta, theta_dot], actions push left / right. */
export const CARTPOLE_V0: EnvSpec = {
  id: 'CartPole-v0',
  observationSize: 4,
  actionCount: 2,
  maxEpisodeSteps: 200,
  rewardThreshold: 195,
  // Twice the termination thresholds (x 2.4, theta 12 degrees), as Gymnasium; velocities unbounded.
  observationLow: [-4.8, -Infinity, -(48 * Math.PI) / 360, -Infinity],
  observationHigh: [4.8, Infinity, (48 * Math.PI) / 360, Infinity],
};

export const CARTPOLE_V1: EnvSpec = { ...CARTPOLE_V0, id: 'CartPole-v1', maxEpisodeSteps: 500, rewardThreshold: 475 };

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_POLE + MASS_CART;
const HALF_POLE_LENGTH = 0.5;
const POLE_MASS_LENGTH = MASS_POLE * HALF_POLE_LENGTH;
const FORCE_MAGNITUDE = 10.0;
/** Seconds between state updates. */
const TAU = 0.02;
/** 12 degrees, computed the way Gymnasium does so the threshold is the same double. */
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
const X_THRESHOLD = 2.4;
const INITIAL_STATE_BOUND = 0.05;

export class CartPoleEnv extends BaseEnv {
  /** `spec` picks the version: CARTPOLE_V0 or CARTPOLE_V1 (they differ only in their limits). */
  constructor(spec: EnvSpec = CARTPOLE_V1) {
    super(spec, 4);
  }

  protected sampleInitialState(rng: Rng, state: Float64Array): void {
    for (let i = 0; i < 4; i++) state[i] = rng.uniform(-INITIAL_STATE_BOUND, INITIAL_STATE_BOUND);
  }

  protected advance(action: number): boolean {
    const s = this.state;
    const x = s[0]!;
    const xDot = s[1]!;
    const theta = s[2]!;
    const thetaDot = s[3]!;
    const force = action === 1 ? FORCE_MAGNITUDE : -FORCE_MAGNITUDE;
    const cosTheta = libmCos(theta);
    const sinTheta = libmSin(theta);

    // Florian (2007) dynamics, with Gymnasium's grouping of every product and quotient.
    const temp = (force + POLE_MASS_LENGTH * (thetaDot * thetaDot) * sinTheta) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sinTheta - cosTheta * temp) / (HALF_POLE_LENGTH * (4.0 / 3.0 - (MASS_POLE * (cosTheta * cosTheta)) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cosTheta) / TOTAL_MASS;

    // Explicit Euler: positions advance with the old velocities.
    const nextX = x + TAU * xDot;
    const nextTheta = theta + TAU * thetaDot;
    s[0] = nextX;
    s[1] = xDot + TAU * xAcc;
    s[2] = nextTheta;
    s[3] = thetaDot + TAU * thetaAcc;
    return nextX < -X_THRESHOLD || nextX > X_THRESHOLD || nextTheta < -THETA_THRESHOLD || nextTheta > THETA_THRESHOLD;
  }

  /** 1 for every step, the terminating one included (stepping past it is refused by BaseEnv). */
  protected rewardFor(): number {
    return 1;
  }

  protected observeInto(out: Float32Array): void {
    const s = this.state;
    out[0] = s[0]!;
    out[1] = s[1]!;
    out[2] = s[2]!;
    out[3] = s[3]!;
  }

  renderText(): string {
    return renderCartPole(this.state[0]!, this.state[2]!, {
      xThreshold: X_THRESHOLD,
      poleLength: 2 * HALF_POLE_LENGTH,
    });
  }
}
