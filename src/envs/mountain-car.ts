import type { Rng } from '../util/random.js';
import { BaseEnv } from './base-env.js';
import { libmCos } from './libm-trig.js';
import { renderMountainCar } from './render-text.js';
import type { EnvSpec } from './types.js';

/** Gymnasium's MountainCar-v0 (discrete): state [position, velocity], actions push left / none / right. */
export const MOUNTAIN_CAR_V0: EnvSpec = {
  id: 'MountainCar-v0',
  observationSize: 2,
  actionCount: 3,
  maxEpisodeSteps: 200,
  rewardThreshold: -110,
  observationLow: [-1.2, -0.07],
  observationHigh: [0.6, 0.07],
};

const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.5;
const GOAL_VELOCITY = 0;
const FORCE = 0.001;
const GRAVITY = 0.0025;
const INITIAL_POSITION_LOW = -0.6;
const INITIAL_POSITION_HIGH = -0.4;

function clip(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

export class MountainCarEnv extends BaseEnv {
  constructor() {
    super(MOUNTAIN_CAR_V0, 2);
  }

  protected sampleInitialState(rng: Rng, state: Float64Array): void {
    state[0] = rng.uniform(INITIAL_POSITION_LOW, INITIAL_POSITION_HIGH);
    state[1] = 0;
  }

  protected advance(action: number): boolean {
    const s = this.state;
    let position = s[0]!;
    let velocity = s[1]!;
    // Same operation order as Gymnasium, so the doubles agree bit for bit.
    velocity += (action - 1) * FORCE + libmCos(3 * position) * -GRAVITY;
    velocity = clip(velocity, -MAX_SPEED, MAX_SPEED);
    position += velocity;
    position = clip(position, MIN_POSITION, MAX_POSITION);
    // Inelastic left wall: hitting it stops the car.
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    s[0] = position;
    s[1] = velocity;
    return position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
  }

  protected rewardFor(): number {
    return -1;
  }

  protected observeInto(out: Float32Array): void {
    out[0] = this.state[0]!;
    out[1] = this.state[1]!;
  }

  renderText(): string {
    return renderMountainCar(this.state[0]!, this.state[1]!, {
      minPosition: MIN_POSITION,
      maxPosition: MAX_POSITION,
      goalPosition: GOAL_POSITION,
    });
  }
}
