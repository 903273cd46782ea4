/**
 * A custom environment for rlsweep: a 5 x 5 grid world. The agent starts on a random cell and
 * walks (up, right, down, left) to the goal in the top-right corner; each step costs 0.01 and
 * reaching the goal pays 1. Episodes are cut after 50 steps.
 *
 * It extends BaseEnv, which supplies the seeded generator, the time limit, the refusal to step
 * a finished episode and exact state save/restore (so runs on it resume bit-identically): the
 * env itself only draws the start, moves and observes.
 *
 *   npx rlsweep-run --check-env ./examples/grid-world/grid-world.ts:GridWorld
 *   npx rlsweep-run --env ./examples/grid-world/grid-world.ts:GridWorld --steps 20000 --name grid
 *   npx sweep run examples/grid-world/sweep.yaml
 */
import { BaseEnv, type EnvSpec, type Rng } from 'rlsweep';

const SIZE = 5;
const GOAL = { x: SIZE - 1, y: SIZE - 1 };
/** Moves of the actions 0..3: up, right, down, left (y grows upwards). */
const MOVES = [
  [0, 1],
  [1, 0],
  [0, -1],
  [-1, 0],
] as const;

export const GRID_WORLD: EnvSpec = {
  id: 'GridWorld-v0',
  // The agent's cell: [x, y].
  observationSize: 2,
  actionCount: 4,
  maxEpisodeSteps: 50,
  rewardThreshold: 0.9,
  observationLow: [0, 0],
  observationHigh: [SIZE - 1, SIZE - 1],
};

export class GridWorld extends BaseEnv {
  constructor() {
    super(GRID_WORLD, 2);
  }

  protected sampleInitialState(rng: Rng, state: Float64Array): void {
    // Any cell but the goal.
    do {
      state[0] = rng.nextInt(SIZE);
      state[1] = rng.nextInt(SIZE);
    } while (state[0] === GOAL.x && state[1] === GOAL.y);
  }

  protected advance(action: number): boolean {
    const [dx, dy] = MOVES[action]!;
    this.state[0] = Math.min(SIZE - 1, Math.max(0, this.state[0]! + dx));
    this.state[1] = Math.min(SIZE - 1, Math.max(0, this.state[1]! + dy));
    return this.state[0] === GOAL.x && this.state[1] === GOAL.y;
  }

  protected rewardFor(terminated: boolean): number {
    return terminated ? 1 : -0.01;
  }

  protected observeInto(out: Float32Array): void {
    out[0] = this.state[0]!;
    out[1] = this.state[1]!;
  }

  /** The grid as text, top row first: A the agent, G the goal (for --view). */
  renderText(): string {
    const rows: string[] = [];
    for (let y = SIZE - 1; y >= 0; y--) {
      let row = '';
      for (let x = 0; x < SIZE; x++) row += x === this.state[0] && y === this.state[1] ? 'A' : x === GOAL.x && y === GOAL.y ? 'G' : '.';
      rows.push(row);
    }
    return rows.join('\n');
  }

  /** The grid as RGB pixels (for the evaluation GIF and --record): grey cells, a green goal, a blue agent. */
  renderRgb(width: number, height: number, into?: Uint8Array): Uint8Array {
    const pixels = into ?? new Uint8Array(width * height * 3);
    for (let py = 0; py < height; py++) {
      const y = SIZE - 1 - Math.floor((py * SIZE) / height);
      for (let px = 0; px < width; px++) {
        const x = Math.floor((px * SIZE) / width);
        const color = x === this.state[0] && y === this.state[1] ? [51, 102, 204] : x === GOAL.x && y === GOAL.y ? [51, 153, 51] : (x + y) % 2 === 0 ? [204, 204, 204] : [255, 255, 255];
        pixels.set(color, 3 * (py * width + px));
      }
    }
    return pixels;
  }
}
