import type { Rng } from '../util/random.js';
import type { TransitionBatch } from './learner.js';

/**
 * Uniform experience replay as a ring buffer over typed arrays: no object per
 * transition, and sampling writes into a caller-owned preallocated batch.
 */
export class ReplayBuffer {
  readonly capacity: number;
  readonly observationSize: number;
  private readonly states: Float32Array;
  private readonly nextStates: Float32Array;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  private readonly terminals: Float32Array;
  private nextIndex = 0;
  private storedCount = 0;

  constructor(capacity: number, observationSize: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ReplayBuffer: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.observationSize = observationSize;
    this.states = new Float32Array(capacity * observationSize);
    this.nextStates = new Float32Array(capacity * observationSize);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.terminals = new Float32Array(capacity);
  }

  get size(): number {
    return this.storedCount;
  }

  add(state: ArrayLike<number>, action: number, reward: number, nextState: ArrayLike<number>, terminal: boolean): void {
    const i = this.nextIndex;
    const offset = i * this.observationSize;
    for (let k = 0; k < this.observationSize; k++) {
      this.states[offset + k] = state[k]!;
      this.nextStates[offset + k] = nextState[k]!;
    }
    this.actions[i] = action;
    this.rewards[i] = reward;
    this.terminals[i] = terminal ? 1 : 0;
    this.nextIndex = (i + 1) % this.capacity;
    if (this.storedCount < this.capacity) this.storedCount++;
  }

  /** A batch with preallocated arrays for `batchSize` transitions, to pass to sample(). */
  allocateBatch(batchSize: number): TransitionBatch {
    return {
      size: batchSize,
      states: new Float32Array(batchSize * this.observationSize),
      actions: new Int32Array(batchSize),
      rewards: new Float32Array(batchSize),
      nextStates: new Float32Array(batchSize * this.observationSize),
      terminals: new Float32Array(batchSize),
    };
  }

  /**
   * Fill `batch` with `batch.size` transitions drawn uniformly (with replacement). Copies
   * element by element: a subarray per row would allocate two views per transition.
   */
  sample(rng: Rng, batch: TransitionBatch): TransitionBatch {
    if (this.storedCount === 0) throw new Error('ReplayBuffer.sample: the buffer is empty');
    const n = this.observationSize;
    const { states, nextStates, actions, rewards, terminals } = batch;
    const tooShort = Math.min(states.length, nextStates.length) < batch.size * n || Math.min(actions.length, rewards.length, terminals.length) < batch.size;
    if (tooShort) throw new RangeError(`ReplayBuffer.sample: the batch arrays hold fewer than ${batch.size} transitions`);
    for (let b = 0; b < batch.size; b++) {
      const i = rng.nextInt(this.storedCount);
      const from = i * n;
      const to = b * n;
      for (let k = 0; k < n; k++) {
        states[to + k] = this.states[from + k]!;
        nextStates[to + k] = this.nextStates[from + k]!;
      }
      actions[b] = this.actions[i]!;
      rewards[b] = this.rewards[i]!;
      terminals[b] = this.terminals[i]!;
    }
    return batch;
  }

  /** The stored transitions and ring position, for checkpoints (only the filled part is copied). */
  exportState(): { nextIndex: number; storedCount: number; arrays: Record<string, Float32Array | Int32Array> } {
    const n = this.observationSize;
    const count = this.storedCount;
    return {
      nextIndex: this.nextIndex,
      storedCount: count,
      arrays: {
        states: this.states.slice(0, count * n),
        nextStates: this.nextStates.slice(0, count * n),
        actions: this.actions.slice(0, count),
        rewards: this.rewards.slice(0, count),
        terminals: this.terminals.slice(0, count),
      },
    };
  }

  importState(saved: { nextIndex: number; storedCount: number; arrays: Record<string, Float32Array | Int32Array> }): void {
    const { nextIndex, storedCount, arrays } = saved;
    const n = this.observationSize;
    const expected: Record<string, number> = { states: storedCount * n, nextStates: storedCount * n, actions: storedCount, rewards: storedCount, terminals: storedCount };
    if (storedCount > this.capacity || nextIndex >= this.capacity || nextIndex < 0) {
      throw new Error(`ReplayBuffer.importState: ${storedCount} transitions at index ${nextIndex} do not fit a capacity of ${this.capacity}`);
    }
    for (const [name, length] of Object.entries(expected)) {
      if (arrays[name]?.length !== length) throw new Error(`ReplayBuffer.importState: "${name}" has ${arrays[name]?.length ?? 'no'} values, expected ${length}`);
    }
    this.states.set(arrays.states!);
    this.nextStates.set(arrays.nextStates!);
    this.actions.set(arrays.actions!);
    this.rewards.set(arrays.rewards!);
    this.terminals.set(arrays.terminals!);
    this.nextIndex = nextIndex;
    this.storedCount = storedCount;
  }

  /** `count` states drawn uniformly, row-major (the fixed Q-validation set). */
  sampleStates(rng: Rng, count: number): Float32Array {
    if (this.storedCount === 0) throw new Error('ReplayBuffer.sampleStates: the buffer is empty');
    const n = this.observationSize;
    const out = new Float32Array(count * n);
    for (let b = 0; b < count; b++) {
      const i = rng.nextInt(this.storedCount);
      out.set(this.states.subarray(i * n, i * n + n), b * n);
    }
    return out;
  }
}
