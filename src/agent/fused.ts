/**
 * The `fused` engine: a hand-written dense MLP Q-learner over Float32Arrays.
 *
 * For the small networks of classic control, TensorFlow.js spends most of a train step
 * on per-op bookkeeping rather than arithmetic; doing forward, backward and Adam in
 * plain loops over preallocated buffers is many times faster and allocates nothing.
 *
 * The arithmetic deliberately mirrors tfjs-backend-cpu op for op, so both engines
 * produce (nearly) the same weights: every intermediate that tfjs stores in a float32
 * tensor is rounded with Math.fround here, dot products accumulate in doubles and are
 * rounded at the same 48-element block edges as tfjs' matMul, and Adam keeps its
 * beta powers as float32 running products exactly like tfjs' AdamOptimizer.
 */
import { initialWeights } from './init.js';
import {
  type Activation,
  type LearnerOptions,
  type NetworkSpec,
  type OptimizerState,
  type QLearner,
  type TransitionBatch,
  type Weights,
  weightShapes,
} from './learner.js';

/** tfjs-backend-cpu's matMul block size: partial dot products are rounded to float32 at its edges. */
const MATMUL_BLOCK = 48;

/** Activation codes: small integers keep the hot loops monomorphic. */
const LINEAR = 0;
const RELU = 1;
const TANH = 2;

/** Batch capacity allocated up front; a bigger batch grows the buffers once. */
const DEFAULT_BATCH_CAPACITY = 64;

/** Slots of FusedLearner's `scalars`. */
const BETA1_POWER = 0;
const BETA2_POWER = 1;
const LOSS = 2;
const SCALAR_COUNT = 3;

/** Keeps the global-norm divisor away from zero, as PyTorch's clip_grad_norm_. */
const GLOBAL_NORM_EPSILON = 1e-6;

/** The fused engine handles any dense MLP with a supported hidden activation. */
export function fusedSupports(spec: NetworkSpec): boolean {
  const sizes = [spec.observationSize, ...spec.hiddenLayers, spec.actionCount];
  const sizesValid = sizes.every((size) => Number.isInteger(size) && size > 0);
  return sizesValid && (spec.activation === 'relu' || spec.activation === 'tanh');
}

/**
 * beta^(iterations + 1) as TensorFlow.js' Adam holds it: a float32 variable that starts
 * at beta and is multiplied by beta (rounded to float32) after every step. Both engines
 * restore it this way so a restored optimizer continues bit for bit.
 */
export function adamBetaPower(beta: number, iterations: number): number {
  const beta32 = Math.fround(beta);
  let power = beta32;
  for (let step = 0; step < iterations; step++) power = Math.fround(power * beta32);
  return power;
}

export function createFusedLearner(options: LearnerOptions, batchCapacity = DEFAULT_BATCH_CAPACITY): QLearner {
  if (!fusedSupports(options)) {
    throw new Error(`fused engine: unsupported network (activation '${options.activation}', layers must be positive integers)`);
  }
  return new FusedLearner(options, batchCapacity);
}

function activationCode(activation: Activation): number {
  return activation === 'relu' ? RELU : TANH;
}

function zeroWeights(spec: NetworkSpec): Weights {
  return weightShapes(spec).map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
}

function copyWeightsInto(target: Weights, source: Weights, what: string): void {
  if (source.length !== target.length) {
    throw new Error(`${what}: expected ${target.length} tensors, got ${source.length}`);
  }
  for (let t = 0; t < target.length; t++) {
    if (source[t]!.length !== target[t]!.length) {
      throw new Error(`${what}: tensor ${t} has ${source[t]!.length} values, expected ${target[t]!.length}`);
    }
    target[t]!.set(source[t]!);
  }
}

/** Per-row activation buffers of one forward pass: `outputs[l]` holds layer l's output. */
function layerBuffers(widths: readonly number[], rows: number): Float32Array[] {
  return widths.map((width) => new Float32Array(rows * width));
}

/**
 * Scratch lists for the sparse loops: the nonzero terms of one dot-product block
 * (their offsets and values) and the live units of a relu layer. Relu zeroes about
 * half of every hidden layer, so gathering the nonzero terms first and then running
 * four dot products at once in registers roughly halves the work. Skipping a zero
 * term never changes a sum (sums start at +0 and x + 0 = x), so results stay exact.
 */
interface SparseScratch {
  readonly offsets: Int32Array;
  readonly values: Float64Array;
  readonly live: Int32Array;
}

function sparseScratch(widest: number): SparseScratch {
  const length = Math.max(widest, MATMUL_BLOCK);
  return { offsets: new Int32Array(length), values: new Float64Array(length), live: new Int32Array(length) };
}

/**
 * out = activation(input . kernel + bias) for `rows` rows, with tfjs' rounding: each
 * dot product accumulates in a double per 48-wide block, blocks add up in float32, then
 * the bias is added (rounded) and the activation applied.
 */
function denseForward(
  input: Float32Array,
  rows: number,
  inputSize: number,
  kernel: Float32Array,
  bias: Float32Array,
  units: number,
  activation: number,
  out: Float32Array,
  scratch: SparseScratch,
): void {
  const offsets = scratch.offsets;
  const values = scratch.values;
  for (let r = 0; r < rows; r++) {
    const inputOffset = r * inputSize;
    const outOffset = r * units;
    for (let k0 = 0; k0 < inputSize; k0 += MATMUL_BLOCK) {
      const k1 = Math.min(k0 + MATMUL_BLOCK, inputSize);
      let count = 0;
      for (let k = k0; k < k1; k++) {
        const x = input[inputOffset + k]!;
        if (x !== 0) {
          offsets[count] = k * units;
          values[count++] = x;
        }
      }
      const first = k0 === 0;
      let j = 0;
      for (; j + 3 < units; j += 4) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < count; t++) {
          const x = values[t]!;
          const at = offsets[t]! + j;
          s0 += x * kernel[at]!;
          s1 += x * kernel[at + 1]!;
          s2 += x * kernel[at + 2]!;
          s3 += x * kernel[at + 3]!;
        }
        storeOrAdd(out, outOffset + j, s0, first);
        storeOrAdd(out, outOffset + j + 1, s1, first);
        storeOrAdd(out, outOffset + j + 2, s2, first);
        storeOrAdd(out, outOffset + j + 3, s3, first);
      }
      for (; j < units; j++) {
        let sum = 0;
        for (let t = 0; t < count; t++) sum += values[t]! * kernel[offsets[t]! + j]!;
        storeOrAdd(out, outOffset + j, sum, first);
      }
    }
    for (let j = 0; j < units; j++) {
      const z = Math.fround(out[outOffset + j]! + bias[j]!);
      out[outOffset + j] = activation === RELU ? (z < 0 ? 0 : z) : activation === TANH ? Math.tanh(z) : z;
    }
  }
}

/** The first block's sum is stored, later ones added to the float32 result (tfjs' `res += sum`). */
function storeOrAdd(target: Float32Array, index: number, blockSum: number, first: boolean): void {
  target[index] = first ? blockSum : target[index]! + blockSum;
}

/** kernelGrad = input^T . delta, summed over rows in 48-row blocks like tfjs' matMul. */
function kernelGradient(
  input: Float32Array,
  rows: number,
  inputSize: number,
  delta: Float32Array,
  units: number,
  kernelGrad: Float32Array,
  scratch: SparseScratch,
): void {
  const offsets = scratch.offsets;
  const values = scratch.values;
  for (let b0 = 0; b0 < rows; b0 += MATMUL_BLOCK) {
    const b1 = Math.min(b0 + MATMUL_BLOCK, rows);
    const first = b0 === 0;
    for (let i = 0; i < inputSize; i++) {
      let count = 0;
      for (let b = b0; b < b1; b++) {
        const x = input[b * inputSize + i]!;
        if (x !== 0) {
          offsets[count] = b * units;
          values[count++] = x;
        }
      }
      const gradOffset = i * units;
      let j = 0;
      for (; j + 3 < units; j += 4) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < count; t++) {
          const x = values[t]!;
          const at = offsets[t]! + j;
          s0 += x * delta[at]!;
          s1 += x * delta[at + 1]!;
          s2 += x * delta[at + 2]!;
          s3 += x * delta[at + 3]!;
        }
        storeOrAdd(kernelGrad, gradOffset + j, s0, first);
        storeOrAdd(kernelGrad, gradOffset + j + 1, s1, first);
        storeOrAdd(kernelGrad, gradOffset + j + 2, s2, first);
        storeOrAdd(kernelGrad, gradOffset + j + 3, s3, first);
      }
      for (; j < units; j++) {
        let sum = 0;
        for (let t = 0; t < count; t++) sum += values[t]! * delta[offsets[t]! + j]!;
        storeOrAdd(kernelGrad, gradOffset + j, sum, first);
      }
    }
  }
}

/** biasGrad = sum of delta over rows (a double sum per unit, as tfjs' sum kernel). */
function biasGradient(delta: Float32Array, rows: number, units: number, biasGrad: Float32Array): void {
  for (let j = 0; j < units; j++) {
    let sum = 0;
    for (let b = 0; b < rows; b++) sum += delta[b * units + j]!;
    biasGrad[j] = sum;
  }
}

/**
 * inputDelta = (delta . kernel^T) times the derivative of the activation that produced
 * `input` (relu: input > 0, so dead units get 0 without a dot product; tanh: 1 - input^2),
 * with tfjs' rounding.
 */
function inputGradient(
  delta: Float32Array,
  rows: number,
  units: number,
  kernel: Float32Array,
  input: Float32Array,
  inputSize: number,
  inputActivation: number,
  inputDelta: Float32Array,
  scratch: SparseScratch,
): void {
  const offsets = scratch.offsets;
  const values = scratch.values;
  const live = scratch.live;
  for (let b = 0; b < rows; b++) {
    const deltaOffset = b * units;
    const inputOffset = b * inputSize;
    let liveCount = 0;
    for (let i = 0; i < inputSize; i++) {
      if (inputActivation !== RELU || input[inputOffset + i]! > 0) live[liveCount++] = i;
      else inputDelta[inputOffset + i] = 0;
    }
    for (let j0 = 0; j0 < units; j0 += MATMUL_BLOCK) {
      const j1 = Math.min(j0 + MATMUL_BLOCK, units);
      let count = 0;
      for (let j = j0; j < j1; j++) {
        const d = delta[deltaOffset + j]!;
        if (d !== 0) {
          offsets[count] = j;
          values[count++] = d;
        }
      }
      const first = j0 === 0;
      let n = 0;
      for (; n + 3 < liveCount; n += 4) {
        const row0 = live[n]! * units;
        const row1 = live[n + 1]! * units;
        const row2 = live[n + 2]! * units;
        const row3 = live[n + 3]! * units;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < count; t++) {
          const d = values[t]!;
          const j = offsets[t]!;
          s0 += d * kernel[row0 + j]!;
          s1 += d * kernel[row1 + j]!;
          s2 += d * kernel[row2 + j]!;
          s3 += d * kernel[row3 + j]!;
        }
        storeOrAdd(inputDelta, inputOffset + live[n]!, s0, first);
        storeOrAdd(inputDelta, inputOffset + live[n + 1]!, s1, first);
        storeOrAdd(inputDelta, inputOffset + live[n + 2]!, s2, first);
        storeOrAdd(inputDelta, inputOffset + live[n + 3]!, s3, first);
      }
      for (; n < liveCount; n++) {
        const row = live[n]! * units;
        let sum = 0;
        for (let t = 0; t < count; t++) sum += values[t]! * kernel[row + offsets[t]!]!;
        storeOrAdd(inputDelta, inputOffset + live[n]!, sum, first);
      }
    }
    if (inputActivation === TANH) {
      for (let i = 0; i < inputSize; i++) {
        const y = input[inputOffset + i]!;
        inputDelta[inputOffset + i] = Math.fround(Math.fround(1 - Math.fround(y * y)) * inputDelta[inputOffset + i]!);
      }
    }
  }
}

/** Index of the largest of `count` values from `offset`; ties go to the lowest index. */
function argmaxRow(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let a = 1; a < count; a++) {
    const value = values[offset + a]!;
    if (value > bestValue) {
      bestValue = value;
      best = a;
    }
  }
  return best;
}

function maxRow(values: Float32Array, offset: number, count: number): number {
  return values[offset + argmaxRow(values, offset, count)]!;
}

/** Sum of squares of a float32 tensor, rounded as tfjs' sum(square(g)). */
function squaredNorm32(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.fround(values[i]! * values[i]!);
  return Math.fround(sum);
}

function scaleInPlace(values: Float32Array, factor: number): void {
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * factor;
}

/** The exported class exposes `lossAndGradients` for gradient checks; the engine is used through QLearner. */
export class FusedLearner implements QLearner {
  readonly engine = 'fused' as const;
  readonly spec: NetworkSpec;

  private readonly options: LearnerOptions;
  /** [observationSize, ...hiddenLayers, actionCount]. */
  private readonly sizes: readonly number[];
  private readonly layerCount: number;
  private readonly hiddenActivation: number;

  private readonly online: Weights;
  private readonly target: Weights;
  private readonly gradients: Weights;
  private readonly firstMoments: Weights;
  private readonly secondMoments: Weights;
  private iterations = 0;
  /**
   * Mutable double state (Adam's float32 beta powers, the last loss) lives in a typed
   * array: V8 boxes a double stored in an object field, which would allocate per step.
   */
  private readonly scalars = new Float64Array(SCALAR_COUNT);

  // Float32 images of the hyperparameters, as tfjs turns them into float32 scalars.
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly oneMinusBeta1: number;
  private readonly oneMinusBeta2: number;
  private readonly epsilon: number;
  private readonly negativeLearningRate: number;
  private readonly gamma: number;
  private readonly clipNorm: number;
  private readonly clipGlobalNorm: number;

  private capacity = 0;
  /** Online forward on the batch's states, kept for the backward pass. */
  private stateOutputs: Float32Array[] = [];
  private nextOnlineOutputs: Float32Array[] = [];
  private nextTargetOutputs: Float32Array[] = [];
  /** dLoss/d(pre-activation) of each layer's output. */
  private deltas: Float32Array[] = [];
  private readonly singleOutputs: Float32Array[];
  private readonly scratch: SparseScratch;

  constructor(options: LearnerOptions, batchCapacity: number) {
    this.options = options;
    this.spec = {
      observationSize: options.observationSize,
      actionCount: options.actionCount,
      hiddenLayers: [...options.hiddenLayers],
      activation: options.activation,
    };
    this.sizes = [options.observationSize, ...options.hiddenLayers, options.actionCount];
    this.layerCount = this.sizes.length - 1;
    this.hiddenActivation = activationCode(options.activation);

    this.online = initialWeights(this.spec, options.initSeed);
    this.target = this.online.map((tensor) => tensor.slice());
    this.gradients = zeroWeights(this.spec);
    this.firstMoments = zeroWeights(this.spec);
    this.secondMoments = zeroWeights(this.spec);
    this.scalars[BETA1_POWER] = adamBetaPower(options.adamBeta1, 0);
    this.scalars[BETA2_POWER] = adamBetaPower(options.adamBeta2, 0);

    this.beta1 = Math.fround(options.adamBeta1);
    this.beta2 = Math.fround(options.adamBeta2);
    this.oneMinusBeta1 = Math.fround(1 - options.adamBeta1);
    this.oneMinusBeta2 = Math.fround(1 - options.adamBeta2);
    this.epsilon = Math.fround(options.adamEpsilon);
    this.negativeLearningRate = Math.fround(-options.learningRate);
    this.gamma = Math.fround(options.gamma);
    this.clipNorm = Math.fround(options.clipNorm);
    this.clipGlobalNorm = Math.fround(options.clipGlobalNorm);

    this.scratch = sparseScratch(Math.max(...this.sizes));
    this.singleOutputs = layerBuffers(this.sizes.slice(1), 1);
    this.ensureCapacity(Math.max(1, Math.floor(batchCapacity)));
  }

  qValues(states: Float32Array, count: number, out: Float32Array): void {
    if (count <= 0) return;
    if (states.length < count * this.spec.observationSize || out.length < count * this.spec.actionCount) {
      const { observationSize, actionCount } = this.spec;
      throw new RangeError(`qValues: ${count} states need ${count * observationSize} inputs and ${count * actionCount} outputs`);
    }
    this.ensureCapacity(count);
    const outputs = this.stateOutputs;
    // Write the head straight into `out`: hidden layers use the scratch buffers.
    this.forward(this.online, states, count, outputs, out);
  }

  greedyAction(state: Float32Array): number {
    if (state.length < this.spec.observationSize) throw new RangeError(`greedyAction: state has ${state.length} values`);
    const outputs = this.singleOutputs;
    const qValues = outputs[this.layerCount - 1]!;
    this.forward(this.online, state, 1, outputs, qValues);
    return argmaxRow(qValues, 0, this.spec.actionCount);
  }

  trainStep(batch: TransitionBatch): number {
    this.computeGradients(batch);
    this.clipGradients();
    this.applyAdam();
    return this.scalars[LOSS]!;
  }

  /** The TD loss of a batch and its gradients for every weight tensor (copies; for checks, not for training). */
  lossAndGradients(batch: TransitionBatch): { loss: number; gradients: Weights } {
    this.computeGradients(batch);
    return { loss: this.scalars[LOSS]!, gradients: this.gradients.map((tensor) => tensor.slice()) };
  }

  updateTarget(tau: number): void {
    if (tau === 1) {
      copyWeightsInto(this.target, this.online, 'updateTarget');
      return;
    }
    const tau32 = Math.fround(tau);
    const keep32 = Math.fround(1 - tau);
    for (let t = 0; t < this.target.length; t++) {
      const target = this.target[t]!;
      const online = this.online[t]!;
      for (let i = 0; i < target.length; i++) {
        target[i] = Math.fround(online[i]! * tau32) + Math.fround(target[i]! * keep32);
      }
    }
  }

  getWeights(which: 'online' | 'target'): Weights {
    return this.weightsOf(which).map((tensor) => tensor.slice());
  }

  setWeights(which: 'online' | 'target', weights: Weights): void {
    copyWeightsInto(this.weightsOf(which), weights, `setWeights(${which})`);
  }

  getOptimizerState(): OptimizerState {
    return {
      iterations: this.iterations,
      firstMoments: this.firstMoments.map((tensor) => tensor.slice()),
      secondMoments: this.secondMoments.map((tensor) => tensor.slice()),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.iterations) || state.iterations < 0) {
      throw new Error(`setOptimizerState: iterations must be a non-negative integer, got ${state.iterations}`);
    }
    copyWeightsInto(this.firstMoments, state.firstMoments, 'setOptimizerState(firstMoments)');
    copyWeightsInto(this.secondMoments, state.secondMoments, 'setOptimizerState(secondMoments)');
    this.iterations = state.iterations;
    this.scalars[BETA1_POWER] = adamBetaPower(this.options.adamBeta1, state.iterations);
    this.scalars[BETA2_POWER] = adamBetaPower(this.options.adamBeta2, state.iterations);
  }

  dispose(): void {
    // Plain typed arrays: the garbage collector reclaims them.
  }

  private weightsOf(which: 'online' | 'target'): Weights {
    return which === 'online' ? this.online : this.target;
  }

  private assertBatchShape(batch: TransitionBatch): void {
    const rows = batch.size;
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`trainStep: batch size must be >= 1, got ${rows}`);
    const inputs = rows * this.spec.observationSize;
    const shortArray =
      batch.states.length < inputs ||
      batch.nextStates.length < inputs ||
      batch.actions.length < rows ||
      batch.rewards.length < rows ||
      batch.terminals.length < rows;
    if (shortArray) throw new RangeError(`trainStep: batch arrays are shorter than its size ${rows}`);
  }

  /** (Re)allocate the batch buffers for `rows` rows; a no-op once large enough. */
  private ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const widths = this.sizes.slice(1);
    this.stateOutputs = layerBuffers(widths, rows);
    this.nextOnlineOutputs = layerBuffers(widths, rows);
    this.nextTargetOutputs = layerBuffers(widths, rows);
    this.deltas = layerBuffers(widths, rows);
    this.capacity = rows;
  }

  /** Runs `weights` on `rows` inputs; hidden outputs go to `outputs`, the head to `head`. */
  private forward(weights: Weights, input: Float32Array, rows: number, outputs: Float32Array[], head: Float32Array): void {
    const last = this.layerCount - 1;
    let layerInput = input;
    for (let l = 0; l <= last; l++) {
      const out = l === last ? head : outputs[l]!;
      const activation = l === last ? LINEAR : this.hiddenActivation;
      denseForward(
        layerInput,
        rows,
        this.sizes[l]!,
        weights[2 * l]!,
        weights[2 * l + 1]!,
        this.sizes[l + 1]!,
        activation,
        out,
        this.scratch,
      );
      layerInput = out;
    }
  }

  /** Forward, TD targets, loss (into scalars[LOSS]) and backward into `this.gradients`. */
  private computeGradients(batch: TransitionBatch): void {
    const rows = batch.size;
    this.assertBatchShape(batch);
    this.ensureCapacity(rows);
    const last = this.layerCount - 1;

    const stateOutputs = this.stateOutputs;
    this.forward(this.online, batch.states, rows, stateOutputs, stateOutputs[last]!);
    const nextTargetQ = this.nextTargetOutputs[last]!;
    this.forward(this.target, batch.nextStates, rows, this.nextTargetOutputs, nextTargetQ);
    if (this.options.doubleDqn) {
      this.forward(this.online, batch.nextStates, rows, this.nextOnlineOutputs, this.nextOnlineOutputs[last]!);
    }

    this.tdLossAndHeadDelta(batch, rows);
    this.backward(batch.states, rows);
  }

  /**
   * Fills the head's delta (nonzero only at each row's taken action) and stores the
   * mean loss in scalars[LOSS]. The per-element formulas follow the tfjs graph of tfjs-learner.ts:
   * mean(square(q - y)), or Huber mean(where(|d| <= 1, 0.5 d^2, |d| - 0.5)) whose
   * gradient is clip(d, -1, 1).
   */
  private tdLossAndHeadDelta(batch: TransitionBatch, rows: number): void {
    const actionCount = this.spec.actionCount;
    const last = this.layerCount - 1;
    const q = this.stateOutputs[last]!;
    const nextTargetQ = this.nextTargetOutputs[last]!;
    const nextOnlineQ = this.nextOnlineOutputs[last]!;
    const headDelta = this.deltas[last]!;
    const doubleDqn = this.options.doubleDqn;
    const huber = this.options.loss === 'huber';
    const gradPerSample = Math.fround(1 / rows); // d mean / d element

    let lossSum = 0;
    for (let b = 0; b < rows; b++) {
      const offset = b * actionCount;
      const nextValue = doubleDqn
        ? nextTargetQ[offset + argmaxRow(nextOnlineQ, offset, actionCount)]!
        : maxRow(nextTargetQ, offset, actionCount);
      const notDone = Math.fround(1 - batch.terminals[b]!);
      const target = Math.fround(batch.rewards[b]! + Math.fround(Math.fround(nextValue * this.gamma) * notDone));
      const action = batch.actions[b]!;
      if (!(action >= 0 && action < actionCount)) throw new RangeError(`trainStep: action ${action} out of range`);

      const diff = Math.fround(q[offset + action]! - target);
      const absDiff = Math.abs(diff);
      let perSample: number;
      let diffGrad: number;
      if (!huber) {
        perSample = Math.fround(diff * diff);
        diffGrad = Math.fround(gradPerSample * Math.fround(2 * diff));
      } else {
        perSample = absDiff <= 1 ? Math.fround(Math.fround(diff * diff) * 0.5) : Math.fround(absDiff - 0.5);
        diffGrad = Math.fround(gradPerSample * (diff > 1 ? 1 : diff < -1 ? -1 : diff));
      }
      lossSum += Math.fround(perSample / rows);
      for (let a = 0; a < actionCount; a++) headDelta[offset + a] = 0;
      headDelta[offset + action] = diffGrad;
    }
    this.scalars[LOSS] = Math.fround(lossSum);
  }

  /** Backpropagates the head delta through all layers into `this.gradients`. */
  private backward(states: Float32Array, rows: number): void {
    for (let l = this.layerCount - 1; l >= 0; l--) {
      const input = l === 0 ? states : this.stateOutputs[l - 1]!;
      const inputSize = this.sizes[l]!;
      const units = this.sizes[l + 1]!;
      const delta = this.deltas[l]!;
      kernelGradient(input, rows, inputSize, delta, units, this.gradients[2 * l]!, this.scratch);
      biasGradient(delta, rows, units, this.gradients[2 * l + 1]!);
      if (l > 0) {
        const inputDelta = this.deltas[l - 1]!;
        inputGradient(delta, rows, units, this.online[2 * l]!, input, inputSize, this.hiddenActivation, inputDelta, this.scratch);
      }
    }
  }

  /** Keras clipnorm per tensor, then (optionally) one scale for the global norm. */
  private clipGradients(): void {
    const gradients = this.gradients;
    if (this.clipNorm > 0) {
      for (let t = 0; t < gradients.length; t++) {
        const norm = Math.fround(Math.sqrt(squaredNorm32(gradients[t]!)));
        if (norm > this.clipNorm) scaleInPlace(gradients[t]!, Math.fround(this.clipNorm / norm));
      }
    }
    if (this.clipGlobalNorm > 0) {
      let total = 0;
      for (let t = 0; t < gradients.length; t++) total = Math.fround(total + squaredNorm32(gradients[t]!));
      const norm = Math.fround(Math.sqrt(total));
      const coefficient = Math.fround(this.clipGlobalNorm / Math.fround(norm + Math.fround(GLOBAL_NORM_EPSILON)));
      if (coefficient < 1) {
        for (let t = 0; t < gradients.length; t++) scaleInPlace(gradients[t]!, coefficient);
      }
    }
  }

  /** One Adam step, op for op as tfjs' AdamOptimizer.applyGradients (float32 at every stage). */
  private applyAdam(): void {
    const f = Math.fround;
    const beta1 = this.beta1;
    const beta2 = this.beta2;
    const oneMinusBeta1 = this.oneMinusBeta1;
    const oneMinusBeta2 = this.oneMinusBeta2;
    const epsilon = this.epsilon;
    const negativeLearningRate = this.negativeLearningRate;
    const scalars = this.scalars;
    const firstCorrection = f(1 - scalars[BETA1_POWER]!);
    const secondCorrection = f(1 - scalars[BETA2_POWER]!);
    for (let t = 0; t < this.online.length; t++) {
      const weights = this.online[t]!;
      const gradient = this.gradients[t]!;
      const m = this.firstMoments[t]!;
      const v = this.secondMoments[t]!;
      for (let i = 0; i < weights.length; i++) {
        const g = gradient[i]!;
        const newM = f(f(m[i]! * beta1) + f(g * oneMinusBeta1));
        const newV = f(f(v[i]! * beta2) + f(f(g * g) * oneMinusBeta2));
        m[i] = newM;
        v[i] = newV;
        const correctedM = f(newM / firstCorrection);
        const correctedV = f(newV / secondCorrection);
        const step = f(f(correctedM / f(f(Math.sqrt(correctedV)) + epsilon)) * negativeLearningRate);
        weights[i] = step + weights[i]!;
      }
    }
    scalars[BETA1_POWER] = f(scalars[BETA1_POWER]! * beta1);
    scalars[BETA2_POWER] = f(scalars[BETA2_POWER]! * beta2);
    this.iterations++;
  }
}
